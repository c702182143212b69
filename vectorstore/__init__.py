"""The bundled sample mentor corpus and its prebuilt index (data only)."""
