"""What can be checked of the container image without a Docker engine (none runs on these machines).

1. The release binary, built as the Dockerfile builds it (static Swift standard library), links only libraries
   that belong to the Debian runtime packages the Dockerfile's runtime stage installs, or to their dependencies
   (`ldd` + `dpkg -S` + the installed packages' Depends).
2. It starts (`ferry --version`) in a root filesystem that holds nothing but the files of those packages
   (`dpkg -L`) and the binary, entered with chroot.
3. The chart's default image runs the Dockerfile's entrypoint with subcommands the binary has.
Run: python3 -m pytest -q Tests/ImageTests  (make test runs it in the `python` group; the first run builds
the release binary into .build-image, a few minutes).
"""
import os
import re
import shutil
import subprocess
import tempfile

import helm_python as helm
import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRATCH = os.path.join(ROOT, ".build-image")


def run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


@pytest.fixture(scope="module")
def binary():
    build = ["swift", "build", "-c", "release", "--static-swift-stdlib", "--product", "ferry",
             "--scratch-path", SCRATCH, "-j", "2"]
    subprocess.run(build, cwd=ROOT, check=True)
    bin_dir = run(build + ["--show-bin-path"], cwd=ROOT).strip()
    return os.path.join(bin_dir, "ferry")


def dockerfile():
    with open(os.path.join(ROOT, "Dockerfile")) as f:
        return f.read()


def runtime_packages():
    text = dockerfile()
    line = text.split("# RUNTIME-PACKAGES", 1)[1].split("\n", 2)[1]
    match = re.search(r"--no-install-recommends (.*?) &&", line)
    assert match, "the RUN line after '# RUNTIME-PACKAGES' must install the runtime packages"
    return set(match.group(1).split())


def installed(pkg):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True).stdout
    return "install ok installed" in out


def dependency_closure(packages):
    seen, todo = set(), list(packages)
    while todo:
        pkg = todo.pop()
        if pkg in seen:
            continue
        seen.add(pkg)
        deps = run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", pkg])
        for clause in deps.split(","):
            for alternative in clause.split("|"):
                name = alternative.strip().split(" ")[0].split(":")[0]
                if name and installed(name):
                    todo.append(name)
    return seen


def owning_package(path):
    for candidate in {path, os.path.realpath(path), path.replace("/usr/lib/", "/lib/", 1),
                      path.replace("/lib/", "/usr/lib/", 1)}:
        result = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if result.returncode == 0:
            return result.stdout.split(":", 1)[0].strip()
    return None


def linked_libraries(binary):
    libs = {}
    for line in run(["ldd", binary]).splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
            libs[parts[0]] = parts[2]
        elif parts and parts[0].startswith("/"):
            libs[parts[0]] = parts[0]
    return libs


def test_runtime_packages_are_installed_here():
    missing = [p for p in runtime_packages() if not installed(p)]
    assert missing == [], f"runtime packages of the Dockerfile not installed on this machine: {missing}"


def test_every_linked_library_comes_from_the_runtime_packages(binary):
    closure = dependency_closure(runtime_packages())
    problems = []
    for soname, path in linked_libraries(binary).items():
        if path.startswith("/opt/swift"):
            problems.append(f"{soname} comes from the Swift toolchain ({path}): the stdlib must be static")
            continue
        pkg = owning_package(path)
        if pkg is None:
            problems.append(f"{soname} ({path}) belongs to no Debian package")
        elif pkg.split(":")[0] not in closure:
            problems.append(f"{soname} ({path}) is in {pkg}, which the runtime stage does not install")
    assert problems == []


def test_binary_starts_in_a_root_filesystem_of_only_those_packages(binary):
    rootfs = tempfile.mkdtemp(prefix="ferry-rootfs-")
    try:
        os.makedirs(os.path.join(rootfs, "usr"))
        for link in ("lib", "lib64", "bin", "sbin"):  # Debian 12 is merged-/usr
            os.makedirs(os.path.join(rootfs, "usr", link), exist_ok=True)
            os.symlink(os.path.join("usr", link), os.path.join(rootfs, link))
        for pkg in sorted(dependency_closure(runtime_packages())):
            for path in run(["dpkg", "-L", pkg]).splitlines():
                if os.path.isdir(path) and not os.path.islink(path):
                    continue
                if not os.path.lexists(path):
                    continue
                real = path
                for prefix in ("/lib/", "/lib64/", "/bin/", "/sbin/"):
                    if path.startswith(prefix):
                        real = "/usr" + path
                dest = os.path.join(rootfs, real.lstrip("/"))
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                if not os.path.lexists(dest):
                    shutil.copy2(path, dest, follow_symlinks=False)
        target = os.path.join(rootfs, "usr/local/bin/ferry")
        os.makedirs(os.path.dirname(target))
        shutil.copy2(binary, target)
        # As a container runtime does, give the process a /proc (the static Swift runtime reads its arguments
        # from /proc/self/cmdline); the mount lives in a private mount namespace and vanishes with it.
        os.makedirs(os.path.join(rootfs, "proc"))
        chroot = shutil.which("chroot") or "/usr/sbin/chroot"
        script = f'mount -t proc proc "{rootfs}/proc" && exec {chroot} "{rootfs}" /usr/local/bin/ferry --version'
        result = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                                capture_output=True, text=True, env={"PATH": "/usr/bin:/usr/sbin:/bin:/sbin"})
        assert result.returncode == 0, result.stderr
        chart = yaml.safe_load(open(os.path.join(ROOT, "helm/ferry/Chart.yaml")))
        assert result.stdout.strip() == chart["appVersion"]
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)


def test_chart_default_image_runs_the_entrypoint_with_subcommands_the_binary_has(binary):
    assert 'ENTRYPOINT ["/usr/local/bin/ferry"]' in dockerfile()
    with helm.Chart.load(os.path.join(ROOT, "helm/ferry")) as chart:
        out = chart.render(values={}, name="ferry", namespace="ferry-system")
        app_version = chart.metadata["appVersion"]
    deployment = yaml.safe_load(out["ferry/templates/deployment.yaml"])
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].endswith(":" + app_version)
    assert "command" not in container, "the chart must rely on the image's entrypoint"
    subcommand = container["args"][0]
    assert subprocess.run([binary, subcommand, "--help"], capture_output=True).returncode == 0
    test_pod = yaml.safe_load(out["ferry/templates/tests/kube-check.yaml"])
    args = test_pod["spec"]["containers"][0]["args"]
    assert subprocess.run([binary] + args[:2] + ["--help"], capture_output=True).returncode == 0
