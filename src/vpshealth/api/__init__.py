"""The node's HTTP API (FastAPI on uvicorn, inside the service's event loop)."""
