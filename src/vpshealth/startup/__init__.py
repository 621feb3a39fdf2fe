"""Starting VPS Health by itself: the background service and the desktop app at login."""
