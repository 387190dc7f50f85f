"""claude-runner: a 24/7 file-driven task runner for coding agents."""
