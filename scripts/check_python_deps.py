"""Exit 0 when every requirement in the given requirements file is installed at a matching version."""
import sys
from importlib import metadata

try:
    from packaging.requirements import Requirement
except ImportError:  # packaging is absent: let pip decide
    sys.exit(1)

for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    req = Requirement(line)
    try:
        version = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        sys.exit(1)
    if req.specifier and version not in req.specifier:
        sys.exit(1)
sys.exit(0)
