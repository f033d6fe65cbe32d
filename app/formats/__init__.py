"""Annotation formats. Importing this package registers every format in ``registry.FORMATS``."""

from app.formats import coco as coco  # registers "coco"
from app.formats import cvat as cvat  # registers "cvat"
from app.formats import mot as mot  # registers "mot"
from app.formats import project_format as project_format  # registers "project"
from app.formats import pysot as pysot  # registers "pysot"
from app.formats import single_object as single_object  # registers "otb", "got10k", "lasot"
from app.formats import voc as voc  # registers "voc"
from app.formats import yolo as yolo  # registers "yolo"
from app.formats.registry import FORMATS, ExportJob, ExportOptions, Format, FormatError

__all__ = ["FORMATS", "ExportJob", "ExportOptions", "Format", "FormatError"]
