"""`claude-runner demo`: the self-evolution loop against a stand-in agent, in a temp folder."""
