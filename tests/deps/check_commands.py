#!/usr/bin/python3
"""check_commands.py — every command the repository runs is installed by it.

Usage: /usr/bin/python3 tests/deps/check_commands.py <repo-root> [-v]

The README promises that `deploy/demo.sh` and `tests/run.sh` work on a fresh
Debian 12 machine: they install what is missing. That holds only while every
external command the repository's scripts and tests run comes either from
Debian 12's minimal set (what `debootstrap --variant=minbase bookworm`
installs: the Priority: required packages and apt; tests/deps/minbase.txt)
or from a package that an install script names. This test keeps it true.

  1. Scan (statically, nothing is run):
     - every shell script: *.sh, and files whose first line runs sh or bash
       (.ci/run); `bash -c`/`sh -c` strings and trap handlers are scanned as
       shell too, and so are the $(...) inside unquoted here-documents;
     - README.md's ```sh blocks (what a new user types);
     - C sources: string literals naming a program in /usr/bin, /bin, /usr/sbin or /sbin (what the tests exec) and the
       command that system()/popen() run (the format of the snprintf that
       fills their argument);
     - Python and JavaScript: such literals too, and
       subprocess calls whose program is a literal;
     - CMake: the program of every COMMAND that is a literal.
     A command is the first word of a simple command once assignments,
     redirections and reserved words are gone, and the command that
     timeout/nice/env/xargs/sudo/exec/command wrap. Not commands: shell
     builtins and keywords, functions the script defines, variables
     ("$bin", "${wrap[@]}"), the repository's own files
     (deploy/install-deps.sh, "$build/hub/parkhub"). When a function or a
     variable is run with arguments, an argument that the table knows as a
     command counts from there on (`wait_for 5 grep -q x f`,
     `$sudo apt-get install …`).
  2. Find the packages the install scripts name: every script that runs
     `apt-get install`; its package words are the literal words of that
     command line and, through the arrays and for-loops that feed it
     (`pkgs=(…)`, `need+=(chromium)`, `for p in "${pkgs[@]}"`, `missing+=("$p")`),
     every literal word that reaches it.
  3. Check each use against tests/deps/commands.tsv (command -> Debian
     package): the package must be in the minimal set or named by an install
     script. A command the table does not know fails too (add it, with the
     package `dpkg -S "$(command -v CMD)"` names). A command marked
     optional must be guarded by `command -v CMD` in the script that uses it.
  4. Check the table against this machine: for a table command that is
     installed here, dpkg must say it comes from the table's package (or a
     package that package depends on), following symlinks and alternatives.

Prints one line per problem with the script and line, then
"N passed, M failed" (one check per command found, one per table entry
verified); exits 1 when M > 0. -v also lists every command, where it comes
from and its first use.
"""
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from shellscan import ASSIGN_RE, BUILTINS, KEYWORDS, NAME_RE, Shell  # noqa: E402

# external commands that run another command; value: options that take a value
WRAPPERS = {
    "timeout": {"-k", "--kill-after", "-s", "--signal"},
    "nice": {"-n", "--adjustment"},
    "env": {"-u", "--unset", "-C", "--chdir", "-S", "--split-string"},
    "xargs": {"-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s", "--arg-file",
              "--delimiter", "--max-args", "--max-procs", "--replace"},
    "nohup": set(),
    "setsid": set(),
    "stdbuf": {"-i", "-o", "-e"},
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"},
    "chroot": set(),
    "unshare": set(),
    "flock": {"-w", "--timeout", "-E", "--conflict-exit-code"},
}

# ---------------------------------------------------------------- scanning

class Use:
    """A command, and the file and line that run it."""

    def __init__(self, cmd, path, line):
        self.cmd, self.path, self.line = cmd, path, line


def strip_quotes(raw):
    """The text of a quoted string, for shell code inside it (bash -c "...")."""
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        inner = raw[1:-1]
        if raw[0] == '"':
            inner = re.sub(r'\\([\\"$`])', r"\1", inner)
        return inner
    return raw


class Scanner:
    def __init__(self, root, known):
        self.root, self.known = root, known
        self.uses, self.probes, self.problems = [], [], []
        self.installs = {}  # package -> [(path, line)]

    def rel(self, path):
        return os.path.relpath(path, self.root)

    # -- shell
    def shell_text(self, text, path, line0=1, functions=None):
        sh = Shell(text, path, line0)
        sh.parse()
        if functions is None:
            functions = set(re.findall(r"(?m)^[ \t]*(?:function[ \t]+)?([A-Za-z_][A-Za-z0-9_:-]*)[ \t]*\(\)", text))
            functions |= set(re.findall(r"(?m)^[ \t]*function[ \t]+([A-Za-z_][A-Za-z0-9_:-]*)", text))
        for words, line in sh.commands:
            self.command(words, path, line, functions)
        for text2, line in sh.subtexts:
            self.shell_text(text2, path, line, functions)
        return sh

    def command(self, words, path, line, functions):
        """One simple command's words (assignments first, no redirections)."""
        i = 0
        while i < len(words) and ASSIGN_RE.match(words[i].raw):
            i += 1
        if i >= len(words):
            return
        self.invoke(words[i:], path, line, functions)

    def invoke(self, words, path, line, functions):
        w = words[0]
        rest = words[1:]
        name = w.literal
        if name is None or "$" in w.raw:
            # a variable or a path inside one: not a command; an argument the
            # table knows may start one ($sudo apt-get …)
            self.args_as_command(rest, path, line, functions)
            return
        if "/" in name:
            if name.startswith("/"):
                base = os.path.basename(name)
                if re.fullmatch(r"/(usr/)?s?bin/[^/]+", name):
                    self.use(base, path, line)
                    self.after_command(base, rest, path, line, functions)
                else:
                    self.problems.append(f"{self.rel(path)}:{line}: {name}: a program outside /usr/bin, /bin, /usr/sbin, /sbin")
            # else a file of the repository (deploy/install-deps.sh)
            return
        if name in functions:
            self.args_as_command(rest, path, line, functions)
            return
        if name in BUILTINS or name in KEYWORDS:
            self.builtin(name, rest, path, line, functions)
            return
        if not NAME_RE.match(name):
            self.problems.append(f"{self.rel(path)}:{line}: cannot tell what '{w.raw}' runs")
            return
        self.use(name, path, line)
        self.after_command(name, rest, path, line, functions)

    def args_as_command(self, args, path, line, functions):
        for k, a in enumerate(args):
            if a.literal is not None and not a.quoted and a.literal in self.known:
                self.invoke(args[k:], path, line, functions)
                return

    def builtin(self, name, rest, path, line, functions):
        if name == "command":
            if rest and rest[0].literal in ("-v", "-V"):
                for a in rest[1:]:
                    if a.literal is not None:
                        self.probes.append((os.path.basename(a.literal), path, line))
                return
            if rest:
                self.invoke(rest, path, line, functions)
        elif name in ("exec", "builtin"):
            args = [a for a in rest if not (a.literal or "").startswith("-")]
            if args:
                self.invoke(args, path, line, functions)
        elif name == "trap" and rest and rest[0].raw not in ("-",) and not rest[0].raw.startswith("-"):
            self.shell_text(strip_quotes(rest[0].raw), path, line, functions)
        elif name == "eval" and rest:
            self.shell_text(" ".join(strip_quotes(a.raw) for a in rest), path, line, functions)

    def after_command(self, name, rest, path, line, functions):
        """What an external command runs in turn: wrappers, sh -c, apt-get install."""
        if name in ("bash", "sh", "dash"):
            for k, a in enumerate(rest):
                if a.literal == "-c" and k + 1 < len(rest):
                    self.shell_text(strip_quotes(rest[k + 1].raw), path, line, functions)
                    break
            return
        if name in WRAPPERS:
            valued = WRAPPERS[name]
            k = 0
            while k < len(rest):
                lit = rest[k].literal
                if lit is None and name != "timeout":
                    break
                if lit is not None and lit.startswith("-"):
                    opt = lit.split("=", 1)[0]
                    k += 2 if (opt in valued and "=" not in lit) else 1
                    if lit == "--":
                        break
                    continue
                if name == "env" and lit is not None and ASSIGN_RE.match(lit):
                    k += 1
                    continue
                break
            if name == "timeout":
                k += 1  # the duration
            if name == "chroot":
                k += 1  # the new root
            if name == "flock":
                k += 1  # the lock file or fd
            if k < len(rest):
                self.invoke(rest[k:], path, line, functions)
            return

    def use(self, cmd, path, line):
        self.uses.append(Use(cmd, path, line))

    # -- packages named by install scripts
    def installs_in(self, path, sh):
        arrays, forvars = {}, {}
        for name, elems, _ in sh.arrays:
            arrays.setdefault(name, []).extend(elems)
        for name, elems, _ in sh.forlists:
            forvars.setdefault(name, []).extend(elems)

        def resolve(word, seen):
            if word.literal is not None:
                return [(word.literal, word.line)]
            m = re.fullmatch(r'"?\$\{?([A-Za-z_][A-Za-z0-9_]*)(\[[@*]\])?\}?"?', word.raw)
            if not m or m.group(1) in seen:
                return []
            var = m.group(1)
            out = []
            for e in arrays.get(var, []) + forvars.get(var, []):
                out += resolve(e, seen | {var})
            return out

        for words, line in sh.commands:
            lits = [w.literal for w in words]
            try:
                k = next(j for j, x in enumerate(lits) if x in ("apt-get", "apt") and "install" in lits[j + 1:])
            except StopIteration:
                continue
            args = words[lits.index("install", k) + 1:]
            for a in args:
                for pkg, pline in resolve(a, frozenset()):
                    if pkg.startswith("-") or not re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", pkg):
                        continue
                    where = (path, pline or line)
                    if where not in self.installs.setdefault(pkg, []):
                        self.installs[pkg].append(where)

    def shebang(self, path, text):
        """#!/usr/bin/env bash, #!/usr/bin/python3: the interpreter runs it."""
        m = re.match(r"#!\s*(\S+)(?:\s+(\S+))?", text)
        if not m:
            return
        prog, arg = m.group(1), m.group(2)
        self.use(os.path.basename(prog), path, 1)
        if os.path.basename(prog) == "env" and arg and not arg.startswith("-"):
            self.use(arg, path, 1)

    # -- other languages
    ABS_RE = re.compile(r"[\"'](/(?:usr/)?s?bin/[A-Za-z0-9_.+-]+)[\"']")

    @staticmethod
    def c_code(text):
        """The text with C comments blanked (newlines kept), strings kept."""
        out, i, n = [], 0, len(text)
        while i < n:
            c = text[i]
            if c == '"' or c == "'":
                j = i + 1
                while j < n and text[j] != c:
                    j += 2 if text[j] == "\\" else 1
                out.append(text[i:j + 1])
                i = j + 1
            elif text.startswith("/*", i):
                j = text.find("*/", i + 2)
                j = n if j < 0 else j + 2
                out.append(re.sub(r"[^\n]", " ", text[i:j]))
                i = j
            elif text.startswith("//", i):
                j = text.find("\n", i)
                j = n if j < 0 else j
                out.append(" " * (j - i))
                i = j
            else:
                out.append(c)
                i += 1
        return "".join(out)

    def c_source(self, path, text):
        lines = self.c_code(text).splitlines()
        for n, l in enumerate(lines, 1):
            for m in self.ABS_RE.finditer(l):
                self.use(os.path.basename(m.group(1)), path, n)
            for m in re.finditer(r"\bexec[lv]p\s*\(\s*\"([^\"]+)\"", l):
                self.use(m.group(1), path, n)
            for m in re.finditer(r"\b(system|popen)\s*\(\s*([^,)]+)", l):
                arg = m.group(2).strip()
                fmt = None
                if arg.startswith('"'):
                    fmt = arg.strip('"')
                else:
                    var = re.escape(arg)
                    for back in range(n - 1, max(0, n - 16), -1):
                        mm = re.search(r"snprintf\s*\(\s*" + var + r"\s*,[^,]+,\s*\"([^\"]*)\"", lines[back - 1])
                        if mm:
                            fmt = mm.group(1)
                            break
                if fmt is None:
                    self.problems.append(f"{self.rel(path)}:{n}: cannot tell which command {m.group(1)}() runs")
                    continue
                self.shell_text(fmt, path, n, set())

    def script_source(self, path, text):  # Python, JavaScript
        for n, l in enumerate(text.splitlines(), 1):
            for m in self.ABS_RE.finditer(l):
                self.use(os.path.basename(m.group(1)), path, n)
            for m in re.finditer(r"subprocess\.\w+\(\s*\[\s*[\"']([^\"']+)[\"']", l):
                self.use(os.path.basename(m.group(1)), path, n)

    def cmake(self, path, text):
        for n, l in enumerate(text.splitlines(), 1):
            for m in re.finditer(r"\bCOMMAND\s+([^\s)]+)", l):
                prog = m.group(1)
                if "$" in prog or prog.startswith('"'):
                    continue
                if "/" in prog:
                    if re.fullmatch(r"/(usr/)?s?bin/[^/]+", prog):
                        self.use(os.path.basename(prog), path, n)
                    continue
                self.use(prog, path, n)

    def markdown(self, path, text):
        block, start = None, 0
        for n, l in enumerate(text.splitlines(), 1):
            if l.startswith("```"):
                if block is None:
                    if l.strip() in ("```sh", "```bash", "```shell"):
                        block, start = [], n + 1
                    else:
                        block, start = False, 0
                else:
                    if block:
                        self.shell_text("\n".join(block), path, start)
                    block = None
                continue
            if block is not None and block is not False:
                block.append(l)


# ---------------------------------------------------------------- files

PRUNE = {".git", "node_modules", "__pycache__"}


def repo_files(root):
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        keep = []
        for x in sorted(dirs):
            if x in PRUNE:
                continue
            if rel == "." and (x.startswith("build") or x == "demo"):
                continue
            if os.path.exists(os.path.join(d, x, "CMakeCache.txt")):
                continue
            keep.append(x)
        dirs[:] = keep
        for f in sorted(files):
            yield os.path.join(d, f)


def is_shell(path, head):
    if path.endswith(".sh"):
        return True
    first = head.split("\n", 1)[0]
    return bool(re.match(r"#!\s*\S*/(env\s+)?(ba)?sh\b", first)) or bool(re.match(r"#!\s*/usr/bin/env\s+(ba)?sh\b", first))


def load_table(path):
    table, optional = {}, {}
    for n, l in enumerate(open(path, encoding="utf-8"), 1):
        l = l.rstrip("\n")
        if not l.strip() or l.startswith("#"):
            continue
        f = l.split("\t")
        if len(f) < 2:
            sys.exit(f"{path}:{n}: want COMMAND<TAB>PACKAGE[|PACKAGE…][<TAB>optional|note]")
        table[f[0]] = f[1].split("|")
        if len(f) > 2 and f[2].startswith("optional"):
            optional[f[0]] = f[2]
    return table, optional


def load_list(path):
    return {l.split()[0] for l in open(path, encoding="utf-8") if l.strip() and not l.startswith("#")}


SYS_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def dpkg_fields(pkgs, fmt):
    """{package: formatted fields} for the installed ones among pkgs."""
    if not pkgs:
        return {}
    r = subprocess.run(["/usr/bin/dpkg-query", "-W", "-f=${Package}\t${db:Status-Abbrev}\t" + fmt + "\n"]
                       + sorted(pkgs), capture_output=True, text=True)
    out = {}
    for l in r.stdout.splitlines():
        f = l.split("\t", 2)
        if len(f) == 3 and f[1].startswith("ii"):
            out[f[0]] = f[2]
    return out


def verify_table(table):
    """Asks dpkg which package owns each table command installed here.
    Returns (checked, problems, notes)."""
    if not os.path.exists("/usr/bin/dpkg-query"):
        return 0, [], ["no dpkg-query here: the table was not checked against this machine"]
    chains = {}
    for cmd in sorted(table):
        if table[cmd] == ["(repository)"]:
            continue
        p = shutil.which(cmd, path=SYS_PATH)
        if not p:
            continue
        chain, seen = [], set()
        while p and p not in seen:  # the command, its symlinks and alternatives
            seen.add(p)
            chain.append(p)
            if re.match(r"/usr/s?bin/", p):
                chain.append(p[4:])
            elif re.match(r"/s?bin/", p):
                chain.append("/usr" + p)
            p = os.path.normpath(os.path.join(os.path.dirname(p), os.readlink(p))) if os.path.islink(p) else None
        chains[cmd] = chain
    allpaths = sorted({x for c in chains.values() for x in c})
    owners = {}
    if allpaths:
        r = subprocess.run(["/usr/bin/dpkg-query", "-S"] + allpaths, capture_output=True, text=True)
        for l in r.stdout.splitlines():
            if ": " not in l or l.startswith("diversion by"):
                continue
            pk, fp = l.rsplit(": ", 1)
            owners.setdefault(fp, set()).update(x.strip().split(":")[0] for x in pk.split(","))
    wanted = {pk for c in chains for pk in table[c]}
    installed = dpkg_fields(wanted, "${Depends}, ${Pre-Depends}")
    versions = dpkg_fields({o for v in owners.values() for o in v}, "${Version}")
    problems, notes, checked = [], [], 0
    for cmd, chain in chains.items():
        found = set()
        for x in chain:
            found |= owners.get(x, set())
        if not found:
            continue  # not from a package (a local build, a pip install): nothing to check
        want = set(table[cmd])
        deps = set()
        for pk in want & set(installed):
            deps |= {re.split(r"[\s(:]", d.strip())[0] for d in re.split(r"[,|]", installed[pk]) if d.strip()}
        if found & (want | deps):
            checked += 1
        elif want & set(installed):
            checked += 1
            problems.append(f"tests/deps/commands.tsv: {cmd}: the table says {'|'.join(table[cmd])}, "
                            f"but {chain[0]} comes from {', '.join(sorted(found))}")
        else:
            # the table's package is not installed here and another package
            # provides the command (e.g. a nodejs from another archive that
            # bundles npm): this machine cannot confirm or refute the table
            notes.append(f"{cmd}: here {chain[0]} comes from "
                         f"{', '.join(f'{o} {versions.get(o, chr(63))}' for o in sorted(found))}, "
                         f"not from {'|'.join(table[cmd])} (not installed): not checked")
    return checked, problems, notes



# ---------------------------------------------------------------- self-test

# What the scan must find in a few constructs (and what it must not take for
# a command): shell text -> (commands, packages an install names). Run before
# every scan, so a parser change that goes blind fails here.
SELF_TESTS = [
    ('x=$(curl -s u | jq .a)', {"curl", "jq"}, set()),
    ('echo "$(date +%s) `hostname`"', {"date", "hostname"}, set()),
    ('cat <<EOF\n$(uname -r)\nnot_a_cmd arg\nEOF\nls', {"cat", "uname", "ls"}, set()),
    ("cat <<'EOF'\n$(uname -r)\nEOF\n", {"cat"}, set()),
    ('case $x in\n  foo|bar) sed -n p ;;\n  (baz) : ;;\n  *) ls ;;\nesac', {"sed", "ls"}, set()),
    ('for p in wget unzip; do echo "$p"; done', set(), set()),
    ('f() { grep -q x "$1"; }\nf file\nfunction g { :; }\ng', {"grep"}, set()),
    ('timeout 5 nice -n 10 env A=1 socat - TCP:x', {"timeout", "nice", "env", "socat"}, set()),
    ('timeout --kill-after=10 $((n + 60)) "$bin" --x; "${wrap[@]}" y; $cmd', {"timeout"}, set()),
    ('w() { "$@"; }\nw 5 pgrep -x hub\n$sudo apt-get update -qq', {"pgrep", "apt-get"}, set()),
    ('bash -c "ss -ltn | tail -1"; trap \'rm -rf "$d"\' EXIT', {"bash", "ss", "tail", "rm"}, set()),
    ('# curl in a comment\necho "curl in a string" # and ps here\necho x#y', set(), set()),
    ('[[ $(uname) == Linux && -n $x ]] && echo; (( n = $(nproc) + 1 ))', {"uname", "nproc"}, set()),
    ('exec 3<>/dev/tcp/127.0.0.1/80; exec 7>&-; exec sleep 1', {"sleep"}, set()),
    ('X=1 Y="a b" ip addr >/dev/null 2>&1 </dev/null', {"ip"}, set()),
    ('while read -r l; do :; done < <(ps ax)', {"ps"}, set()),
    ('deploy/install-deps.sh; "$repo/x.sh"; ./y; /usr/sbin/mosquitto -c f', {"mosquitto"}, set()),
    ('command -v gdb >/dev/null && gdb -p 1', {"gdb"}, set()),
    ('v=$(cat <<X\n$(id -u)\nX\n)', {"cat", "id"}, set()),
    ('pkgs=(\n  cmake # a comment\n  curl\n)\nmissing=()\nfor p in "${pkgs[@]}"; do\n  missing+=("$p")\ndone\n'
     'need=(); need+=(chromium)\nfor q in wrk sqlite3; do extra+=("$q"); done\n'
     'DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" "${need[@]}" "${extra[@]}" jq',
     {"apt-get"}, {"cmake", "curl", "chromium", "wrk", "sqlite3", "jq"}),
]


def self_test(known):
    problems = []
    for n, (text, want_cmds, want_pkgs) in enumerate(SELF_TESTS, 1):
        sc = Scanner("/", known)
        sh = sc.shell_text(text, "/self-test")
        sc.installs_in("/self-test", sh)
        got = {u.cmd for u in sc.uses}
        if got != want_cmds or set(sc.installs) != want_pkgs or sc.problems:
            problems.append(f"self-test {n}: {text!r}: commands {sorted(got)} (want {sorted(want_cmds)}), "
                            f"installed {sorted(sc.installs)} (want {sorted(want_pkgs)}) {sc.problems}")
    return len(SELF_TESTS) - len(problems), problems


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    verbose = "-v" in sys.argv[1:]
    if len(args) != 1:
        sys.exit(__doc__)
    root = os.path.abspath(args[0])
    here = os.path.join(root, "tests", "deps")
    table, optional = load_table(os.path.join(here, "commands.tsv"))
    minbase = load_list(os.path.join(here, "minbase.txt"))
    st_passed, st_problems = self_test(set(table))
    sc = Scanner(root, set(table))
    shell_scripts = []
    for path in repo_files(root):
        name = os.path.basename(path)
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except (UnicodeDecodeError, OSError):
            continue
        if text.startswith("#!"):
            sc.shebang(path, text)
        if is_shell(path, text[:200]):
            sh = sc.shell_text(text, path)
            sc.installs_in(path, sh)
            shell_scripts.append(path)
        elif name.endswith((".c", ".h")):
            sc.c_source(path, text)
        elif name.endswith((".py", ".mjs", ".js")):
            sc.script_source(path, text)
        elif name == "CMakeLists.txt" or name.endswith(".cmake"):
            sc.cmake(path, text)
        elif os.path.relpath(path, root) == "README.md":
            sc.markdown(path, text)

    failed, passed = st_problems + list(sc.problems), st_passed
    # deploy/install-deps.sh runs first in the demo, tests/run.sh and every
    # benchmark: what it names is there for every file. A package that another
    # script installs for itself is there for the files of its own folder
    # (tests/browser/run.sh installs chromium for tests/browser/dashboard.mjs).
    common = os.path.join(root, "deploy", "install-deps.sh")
    by_cmd = {}
    for u in sc.uses:
        by_cmd.setdefault(u.cmd, []).append(u)
    probed = {}
    for cmd, path, line in sc.probes:
        probed.setdefault(cmd, set()).add(path)
    rows = []
    for cmd in sorted(by_cmd):
        uses = by_cmd[cmd]
        first = uses[0]
        where = f"{sc.rel(first.path)}:{first.line}"
        pkgs = table.get(cmd)
        if pkgs is None:
            for u in uses:
                failed.append(f"{sc.rel(u.path)}:{u.line}: {cmd}: not in tests/deps/commands.tsv "
                              f"(add it with the Debian package that provides it)")
            continue
        if pkgs == ["(repository)"]:
            passed += 1
            rows.append((cmd, "(built here)", "-", where))
            continue
        base = [p for p in pkgs if p in minbase]
        if base:
            passed += 1
            rows.append((cmd, base[0], "minimal Debian 12", where))
            continue

        def installer(use):
            """(package, path, line) of the install that covers this use, or None."""
            for pk in pkgs:
                for ipath, iline in sc.installs.get(pk, []):
                    if ipath == common or os.path.dirname(ipath) == os.path.dirname(use.path):
                        return pk, ipath, iline
            return None

        bad = [u for u in uses if installer(u) is None]
        if cmd in optional:
            bad = [u for u in bad if u.path not in probed.get(cmd, set())]
        if not bad:
            passed += 1
            got = installer(first)
            rows.append((cmd, got[0], f"{sc.rel(got[1])}:{got[2]}", where) if got else
                        (cmd, "|".join(pkgs), optional[cmd], where))
            continue
        for u in bad:
            others = sorted({sc.rel(x[0]) for pk in pkgs for x in sc.installs.get(pk, [])})
            also = f" (only {', '.join(others)} installs it, for its own folder)" if others else ""
            opt = f"; it is optional, but this script never asks `command -v {cmd}` first" if cmd in optional else ""
            failed.append(f"{sc.rel(u.path)}:{u.line}: {cmd}: needs the package {'|'.join(pkgs)}, which is not in "
                          f"minimal Debian 12 and which deploy/install-deps.sh does not name{also}{opt}")
    checked, vproblems, notes = verify_table(table)
    passed += checked - len(vproblems)
    failed += vproblems

    print(f"deps_commands: {len(shell_scripts)} shell scripts and the C, Python, JavaScript, CMake and README "
          f"sources scanned; {len(by_cmd)} commands; packages named by install scripts: "
          f"{' '.join(sorted(sc.installs))}")
    if verbose:
        for cmd, pkg, src, where in rows:
            print(f"  {cmd:18} {pkg:22} {src:40} first used at {where}")
    print(f"deps_commands: {checked} table entries checked against this machine's dpkg")
    for n in notes:
        print("note: " + n)
    for f in failed:
        print("FAIL " + f)
    print(f"{passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
