"""Annotation formats. Importing this package registers every format in ``registry.FORMATS``."""

from app.formats.registry import FORMATS, ExportJob, ExportOptions, Format, FormatError

__all__ = ["FORMATS", "ExportJob", "ExportOptions", "Format", "FormatError"]
