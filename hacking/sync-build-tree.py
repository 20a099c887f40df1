"""Mirror the checkout into .build/ansible_collections/<namespace>/<name> for ansible-test.

Why: ansible-test only works when the collection sits at
``.../ansible_collections/<namespace>/<name>`` (docs/dev/ansible-test-harness.md 1), and the repository
root is the collection root.  Instead of asking everyone to clone at that depth we copy
the tree there and run ansible-test in the copy.

What is copied: exactly what git would show ansible-test -- tracked files plus untracked
files that are not ignored (``git ls-files --cached --others --exclude-standard``), so
new, not-yet-committed files are tested too and ignored junk (.venv, tests/output,
bench results, ...) never is.  Outside a git checkout every file is copied except the
directories in ALWAYS_SKIP.

The copy is made a git repository of its own (``git init``, no commits).  ansible-test
looks for ``.git`` walking *up* from the collection root; without one in the copy it
would find this checkout's ``.git``, in which ``.build/`` is ignored, and would see an
empty collection.  With it, ansible-test lists files with the same git rules as above
(the copied .gitignore keeps tests/output out of sanity, docs/dev/ansible-test-harness.md 5).

Stale files (deleted or renamed in the checkout) are removed from the copy; ansible-test's
own output (tests/output) and the copy's .git are kept between runs, which keeps warm
runs warm.  Only changed files are rewritten (size, mtime and mode compared).

Usage: sync-build-tree.py SOURCE_DIR DEST_DIR
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys

# Never copied, whatever git says (they are ours, or huge, or both).
# .venv-2.16 and .venv-2.21 are the ansible-core matrix of the Makefile.
ALWAYS_SKIP = {".git", ".venv", ".venv-2.16", ".venv-2.21", ".build", "tests/output", ".ansible", ".pytest_cache"}
# Never deleted from the copy: ansible-test's output, the copy's own .git, and caches that
# git (hence ansible-test) ignores anyway -- keeping them keeps warm runs warm.
KEEP_IN_DEST = {".git", "tests/output"}
KEEP_DIR_NAMES = {"__pycache__", ".pytest_cache", ".ansible"}


def skipped(rel: str) -> bool:
    parts = rel.split("/")
    for i in range(1, len(parts) + 1):
        prefix = "/".join(parts[:i])
        if prefix in ALWAYS_SKIP or parts[i - 1] == "__pycache__":
            return True
    return False


def list_source_files(src: str) -> list[str]:
    try:
        out = subprocess.run(
            ["git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True, capture_output=True,
        ).stdout
        names = [n for n in out.decode("utf-8", "surrogateescape").split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for root, dirs, files in os.walk(src):
            rel_root = os.path.relpath(root, src)
            rel_root = "" if rel_root == "." else rel_root + "/"
            dirs[:] = [d for d in dirs if not skipped(rel_root + d)]
            names.extend(rel_root + f for f in files)
    # Deleted-but-still-tracked files are listed by --cached; skip what is gone.
    return sorted(n for n in names if not skipped(n) and os.path.lexists(os.path.join(src, n)))


def same(src_path: str, dst_path: str) -> bool:
    try:
        s, d = os.lstat(src_path), os.lstat(dst_path)
    except FileNotFoundError:
        return False
    if stat.S_IFMT(s.st_mode) != stat.S_IFMT(d.st_mode):
        return False
    if stat.S_ISLNK(s.st_mode):
        return os.readlink(src_path) == os.readlink(dst_path)
    return s.st_size == d.st_size and s.st_mtime_ns == d.st_mtime_ns and s.st_mode == d.st_mode


def copy_one(src_path: str, dst_path: str) -> None:
    os.makedirs(os.path.dirname(dst_path), exist_ok=True)
    if os.path.isdir(dst_path) and not os.path.islink(dst_path):
        shutil.rmtree(dst_path)
    elif os.path.lexists(dst_path):
        os.unlink(dst_path)
    if os.path.islink(src_path):
        os.symlink(os.readlink(src_path), dst_path)
    else:
        shutil.copy2(src_path, dst_path)  # keeps mode (exec bits matter to sanity) and mtime


def prune(dest: str, wanted: set[str]) -> list[str]:
    removed = []
    wanted_dirs = {os.path.dirname(w) for w in wanted}
    for w in list(wanted_dirs):
        while w:
            w = os.path.dirname(w)
            wanted_dirs.add(w)
    for root, dirs, files in os.walk(dest, topdown=True):
        rel_root = os.path.relpath(root, dest)
        rel_root = "" if rel_root == "." else rel_root + "/"
        dirs[:] = [d for d in dirs if rel_root + d not in KEEP_IN_DEST and d not in KEEP_DIR_NAMES]
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            rel = rel_root + name
            if rel not in wanted:
                os.unlink(os.path.join(root, name))
                removed.append(rel)
    # Remove directories left empty (bottom-up), but never the kept ones or their parents.
    for root, dirs, files in os.walk(dest, topdown=False):
        rel = os.path.relpath(root, dest)
        if rel == "." or any(rel == k or rel.startswith(k + "/") or k.startswith(rel + "/") for k in KEEP_IN_DEST):
            continue
        if any(part in KEEP_DIR_NAMES for part in rel.split("/")):
            continue
        if not os.listdir(root) and rel not in wanted_dirs:
            os.rmdir(root)
    return removed


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, dest = (os.path.abspath(p) for p in sys.argv[1:])
    inside = dest == src or dest.startswith(src + os.sep)
    if inside and not os.path.relpath(dest, src).startswith(".build" + os.sep):
        print(f"refusing to sync into {dest}: must be outside the checkout or under .build/", file=sys.stderr)
        return 2
    os.makedirs(dest, exist_ok=True)

    files = list_source_files(src)
    copied = 0
    for rel in files:
        s, d = os.path.join(src, rel), os.path.join(dest, rel)
        if not same(s, d):
            copy_one(s, d)
            copied += 1
    removed = prune(dest, set(files))

    if not os.path.isdir(os.path.join(dest, ".git")) and shutil.which("git"):
        subprocess.run(["git", "init", "-q", dest], check=True)
    if os.path.isdir(os.path.join(dest, ".git")):
        # Belt and braces: keep ansible-test's output out of its own file list even if
        # the project's .gitignore ever loses the entry (docs/dev/ansible-test-harness.md 5).
        with open(os.path.join(dest, ".git", "info", "exclude"), "w", encoding="utf-8") as fh:
            fh.write("tests/output/\n__pycache__/\n*.pyc\n.ansible/\n")

    print(f"sync-build-tree: {len(files)} files in {os.path.relpath(dest)} ({copied} copied, {len(removed)} removed)")
    for rel in removed[:20]:
        print(f"  removed stale {rel}")
    if len(removed) > 20:
        print(f"  ... and {len(removed) - 20} more")
    return 0


if __name__ == "__main__":
    sys.exit(main())
