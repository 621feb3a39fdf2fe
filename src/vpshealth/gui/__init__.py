"""The desktop app (PySide6 on an asyncio loop through qasync). Only this package imports Qt."""
