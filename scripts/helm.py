#!/usr/bin/env python3
"""A stand-in for the `helm` CLI where it is not installed: the subcommands and flags Ferry's docs use, run through
helm-python-sdk (Helm v4's own Go code, pinned in scripts/requirements-test.txt), so the docs' commands work as
written here too:

    python3 scripts/helm.py install ferry helm/ferry --namespace ferry-system --create-namespace --set a=b
    alias helm='python3 scripts/helm.py'      # then type the docs' commands as they are

Subcommands: install NAME CHART, upgrade [--install] NAME CHART, uninstall NAME, test NAME, status NAME, list,
template NAME CHART, lint CHART, dependency build CHART. Flags: -n/--namespace, --create-namespace, --set,
--set-string, -f/--values, --timeout (Go duration), --wait (accepted; the SDK waits with --timeout), --kubeconfig
(else $KUBECONFIG, else ~/.kube/config). Release records are Secrets in the release namespace, as helm's default.
Anything else exits 2 with a message: this is not a full helm.
"""
import argparse
import os
import re
import sys

import helm_python as helm
import yaml


def merge(into, new):
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value
    return into


def seconds(duration):
    """Go durations as helm takes them: 5m0s, 90s, 1h."""
    if duration is None:
        return 300
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|m|s)", duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        raise SystemExit(f"helm.py: invalid --timeout {duration!r} (use e.g. 90s or 5m0s)")
    return int(sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts))


def values(args):
    result = {}
    for path in args.values or []:
        with open(path) as fh:
            merge(result, yaml.safe_load(fh) or {})
    for expr in args.set or []:
        merge(result, helm.parse_set_string(expr))
    for expr in args.set_string or []:
        merge(result, helm.parse_set_string_values(expr))
    return result


def parser():
    p = argparse.ArgumentParser(prog="helm.py", description=__doc__.split("\n\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-n", "--namespace", default=None)
    common.add_argument("--kubeconfig", default=None)
    sub = p.add_subparsers(dest="command", required=True)

    def chart_command(name, with_chart=True):
        c = sub.add_parser(name, parents=[common])
        c.add_argument("release")
        if with_chart:
            c.add_argument("chart")
            c.add_argument("--set", action="append")
            c.add_argument("--set-string", action="append")
            c.add_argument("-f", "--values", action="append")
            c.add_argument("--create-namespace", action="store_true")
        c.add_argument("--timeout", default=None)
        c.add_argument("--wait", action="store_true")
        return c

    chart_command("install")
    chart_command("upgrade").add_argument("--install", action="store_true")
    chart_command("template")
    chart_command("uninstall", with_chart=False)
    chart_command("test", with_chart=False).add_argument("--logs", action="store_true")
    chart_command("status", with_chart=False)
    sub.add_parser("list", parents=[common]).add_argument("-A", "--all-namespaces", action="store_true")
    sub.add_parser("lint", parents=[common]).add_argument("chart")
    dep = sub.add_parser("dependency")
    dep.add_argument("action", choices=["build", "update"])
    dep.add_argument("chart")
    return p


def config(args):
    kubeconfig = args.kubeconfig or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    return helm.Config(kubeconfig_path=kubeconfig, namespace=args.namespace or "default", storage_driver="secret")


def print_release(release):
    print(f"NAME: {release['name']}\nNAMESPACE: {release['namespace']}\nSTATUS: {release['status']}\n"
          f"REVISION: {release.get('revision', '')}")
    if release.get("notes"):
        print("NOTES:\n" + release["notes"].rstrip())


def main(argv):
    args = parser().parse_args(argv)
    namespace = getattr(args, "namespace", None) or "default"
    try:
        if args.command == "dependency":
            (helm.dependency_build if args.action == "build" else helm.dependency_update)(args.chart)
            return 0
        if args.command == "lint":
            report = helm.lint(args.chart, namespace=namespace)
            print(yaml.safe_dump(report, sort_keys=False).rstrip())
            return 0 if not report.get("errors") and not report.get("failed") else 1
        if args.command == "template":
            with helm.Chart.load(args.chart) as chart:
                rendered = chart.render(values=values(args), name=args.release, namespace=namespace)
            for path, text in sorted(rendered.items()):
                if path.endswith(".yaml") and text.strip():
                    print(f"---\n# Source: {path}\n{text.strip()}")
            return 0
        with config(args) as c:
            if args.command == "install":
                print_release(c.install(args.chart, args.release, values(args), namespace=namespace,
                                        create_namespace=args.create_namespace, timeout=seconds(args.timeout)))
            elif args.command == "upgrade":
                existing = [r for r in c.list() if r["name"] == args.release]
                if not existing and args.install:
                    release = c.install(args.chart, args.release, values(args), namespace=namespace,
                                        create_namespace=args.create_namespace, timeout=seconds(args.timeout))
                else:
                    release = c.upgrade(args.chart, args.release, values(args), namespace=namespace,
                                        timeout=seconds(args.timeout))
                print_release(release)
            elif args.command == "uninstall":
                c.uninstall(args.release, timeout=seconds(args.timeout))
                print(f'release "{args.release}" uninstalled')
            elif args.command == "test":
                # The SDK raises when a test pod fails (HelmError below: exit 1), as `helm test` exits non-zero.
                result = c.test(args.release, timeout=seconds(args.timeout), logs=args.logs)
                print_release(result.get("release", result))
                print("TEST SUITE: every test hook of the release succeeded")
                if args.logs and result.get("logs"):
                    print(result["logs"].rstrip())
            elif args.command == "status":
                print_release(c.status(args.release))
            elif args.command == "list":
                print("NAME\tNAMESPACE\tREVISION\tSTATUS\tCHART")
                for r in c.list():
                    print(f"{r['name']}\t{r['namespace']}\t{r['revision']}\t{r['status']}\t"
                          f"{r['chart_name']}-{r['chart_version']}")
        return 0
    except helm.HelmError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
