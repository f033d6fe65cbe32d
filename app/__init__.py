"""Siamark desktop app: the Qt GUI over the Qt-free annotation model, formats and tracking engine."""

APP_NAME = "Siamark"
