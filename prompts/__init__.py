"""Prompt templates and mentor patterns shipped with reelcal (data only)."""
