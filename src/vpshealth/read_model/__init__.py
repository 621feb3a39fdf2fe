"""What the faces show (fleet overview, host detail, incidents, events) and the JSON shapes
they print or serve, read through the store's repositories. No face, no Qt, no SQL."""
