"""Files shipped inside the package (e-mail templates), read with importlib.resources so they
resolve the same way from a source tree, a wheel or a PyInstaller bundle."""
