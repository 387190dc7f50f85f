#!/usr/bin/env python3
"""The cheapest agent that still answers like `claude -p --output-format json`."""
import sys

sys.stdin.read()
print('{"type":"result","subtype":"success","is_error":false,"result":"ok","session_id":"b",'
      '"num_turns":1,"total_cost_usd":0}')
