"""`claude-runner web`: a live dashboard over the same files and functions as the CLI.

Needs the optional extra `claude-runner[web]` (Starlette, uvicorn, sse-starlette, Jinja2,
cron-descriptor); nothing outside this package imports it, so the core stays small.
"""
