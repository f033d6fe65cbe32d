"""Siamark desktop app: random-access video, demo clip, settings and (later) the Qt GUI."""
