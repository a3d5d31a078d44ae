"""Running the server in production: uvicorn, the supervisor that deals connections to worker
processes and replaces stuck ones, the worker watchdog, and ``/metrics``."""
