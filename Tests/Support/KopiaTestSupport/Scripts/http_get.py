#!/usr/bin/env python3
"""GET a URL and print the body (test helper for gateway statistics and controls)."""
import sys, urllib.request

sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode())
