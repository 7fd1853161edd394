"""The application: CLI, commands, pipeline, evaluation orchestration, resume, preflight."""
