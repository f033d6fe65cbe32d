"""Annotation formats. Importing this package registers every format in ``registry.FORMATS``."""

from app.formats import coco as coco  # registers "coco"
from app.formats import voc as voc  # registers "voc"
from app.formats import yolo as yolo  # registers "yolo"
from app.formats.registry import FORMATS, ExportJob, ExportOptions, Format, FormatError

__all__ = ["FORMATS", "ExportJob", "ExportOptions", "Format", "FormatError"]
