"""Annotation formats. Importing this package registers every format in ``registry.FORMATS``."""

from app.io.formats import coco as coco  # registers "coco"
from app.io.formats import cvat as cvat  # registers "cvat"
from app.io.formats import mot as mot  # registers "mot"
from app.io.formats import project_format as project_format  # registers "project"
from app.io.formats import pysot as pysot  # registers "pysot"
from app.io.formats import single_object as single_object  # registers "otb", "got10k", "lasot"
from app.io.formats import voc as voc  # registers "voc"
from app.io.formats import yolo as yolo  # registers "yolo"
from app.io.formats.registry import FORMATS, ExportJob, ExportOptions, Format, FormatError

__all__ = ["FORMATS", "ExportJob", "ExportOptions", "Format", "FormatError"]
