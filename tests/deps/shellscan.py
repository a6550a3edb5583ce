"""shellscan.py — a small bash lexer and parser for tests/deps/check_commands.py.

Shell(text, path).parse() collects the simple commands of a script (their
words, with quoting and line numbers), its array assignments and for-lists
(for the packages an install script names) and shell text found inside it
(backquotes, for a second pass). It knows quoting, $(...), `...`, ${...},
$((...)), here-documents (an unquoted one is searched for $(...)), arrays,
[[ ]], (( )), case patterns, for lists and function definitions: enough for
scripts written to be read, not all of bash. Nothing is run.
"""
import re

BUILTINS = set("""
. : [ alias bg bind break builtin caller cd command compgen complete compopt
continue declare dirs disown echo enable eval exec exit export false fc fg
getopts hash help history jobs kill let local logout mapfile popd printf pushd
pwd read readarray readonly return set shift shopt source suspend test times
trap true type typeset ulimit umask unalias unset wait
""".split())
KEYWORDS = set("""
if then else elif fi case esac for select while until do done in function time
{ } ! [[ ]] coproc
""".split())
# reserved words that may stand before a command
LEADERS = {"if", "then", "else", "elif", "while", "until", "do", "!", "{", "}",
           "time", "fi", "done", "esac"}
ASSIGN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")


class Word:
    """One shell word: its source text, whether any part was quoted, and its
    value when it has no expansion in it (None otherwise)."""

    def __init__(self, raw, quoted, literal, line=0):
        self.raw, self.quoted, self.literal, self.line = raw, quoted, literal, line

    def __repr__(self):
        return f"Word({self.raw!r})"


class Tok:
    def __init__(self, kind, value, line):
        self.kind, self.value, self.line = kind, value, line  # kind: word op redir fd arith array nl eof

    def __repr__(self):
        return f"Tok({self.kind},{self.value!r},{self.line})"


class Shell:
    """A small bash lexer and parser that yields simple commands.

    It knows quoting, $(...), `...`, ${...}, $((...)), here-documents, array
    assignments, [[ ]], (( )), case patterns, for lists and function
    definitions; enough for scripts written to be read, not a full bash."""

    def __init__(self, text, path, line0=1):
        self.s, self.i, self.line, self.path = text, 0, line0, path
        self.heredocs = []  # pending (delimiter, strip_tabs, expand)
        self.want_delim = None  # after <<: (strip_tabs,)
        self.commands = []  # (words list, line)
        self.arrays = []  # (name, [Word], line)
        self.forlists = []  # (name, [Word], line)
        self.subtexts = []  # (text, line): shell text found in strings (bash -c, trap)

    # -- characters
    def peek(self, k=0):
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def adv(self, n=1):
        for _ in range(n):
            if self.i < len(self.s):
                if self.s[self.i] == "\n":
                    self.line += 1
                self.i += 1

    # -- nested constructs inside words; each returns the raw text consumed
    def skip_single(self):  # at the opening '
        start = self.i
        self.adv()
        while self.i < len(self.s) and self.peek() != "'":
            self.adv()
        self.adv()
        return self.s[start:self.i]

    def skip_ansi(self):  # at $'
        start = self.i
        self.adv(2)
        while self.i < len(self.s) and self.peek() != "'":
            if self.peek() == "\\":
                self.adv()
            self.adv()
        self.adv()
        return self.s[start:self.i]

    def dollar(self):
        """At a $: consumes $(...), $((...)), ${...}, $'...' or $name; parses
        command substitutions. Returns the raw text."""
        start = self.i
        nxt = self.peek(1)
        if nxt == "(" and self.peek(2) == "(":
            self.adv()
            self.skip_arith(2)
        elif nxt == "(":
            self.adv(2)
            self.parse(stop=")")
            self.adv()  # the )
        elif nxt == "{":
            self.adv(2)
            depth = 1
            while self.i < len(self.s) and depth:
                c = self.peek()
                if c == "\\":
                    self.adv(2)
                    continue
                if c == "'":
                    self.skip_single()
                    continue
                if c == '"':
                    self.skip_double()
                    continue
                if c == "$":
                    self.dollar()
                    continue
                if c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                self.adv()
        elif nxt == "'":
            self.skip_ansi()
        else:
            self.adv()
            while self.i < len(self.s) and (self.peek().isalnum() or self.peek() == "_"):
                self.adv()
            if self.i == start + 1 and self.peek() and self.peek() in "@*#?$!-0123456789":
                self.adv()
        return self.s[start:self.i]

    def skip_arith(self, n):  # at (( or $((: to the matching ))
        self.adv(n)
        depth = 2
        while self.i < len(self.s) and depth:
            c = self.peek()
            if c == "$" and self.peek(1) == "(" and self.peek(2) != "(":
                self.dollar()
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            self.adv()

    def backtick(self):  # at `
        start_line = self.line
        self.adv()
        buf = []
        while self.i < len(self.s) and self.peek() != "`":
            if self.peek() == "\\" and self.peek(1) in "`$\\":
                self.adv()
            buf.append(self.peek())
            self.adv()
        self.adv()
        self.subtexts.append(("".join(buf), start_line))
        return "`...`"

    def skip_double(self):  # at the opening "
        start = self.i
        self.adv()
        while self.i < len(self.s) and self.peek() != '"':
            c = self.peek()
            if c == "\\":
                self.adv(2)
            elif c == "$":
                self.dollar()
            elif c == "`":
                self.backtick()
            else:
                self.adv()
        self.adv()
        return self.s[start:self.i]

    # -- tokens
    def word(self):
        """Reads one word at the current position (not at a metacharacter)."""
        raw, lit, quoted, literal, line = [], [], False, True, self.line
        while self.i < len(self.s):
            c = self.peek()
            if c in " \t\n;&|<>()":
                break
            if c == "\\":
                if self.peek(1) == "\n":
                    self.adv(2)
                    continue
                raw.append(self.s[self.i:self.i + 2])
                lit.append(self.peek(1))
                self.adv(2)
            elif c == "'":
                t = self.skip_single()
                raw.append(t)
                lit.append(t[1:-1])
                quoted = True
            elif c == '"':
                t = self.skip_double()
                raw.append(t)
                quoted = True
                if "$" in t or "`" in t:
                    literal = False
                lit.append(t[1:-1])
            elif c == "$":
                raw.append(self.dollar())
                literal = False
            elif c == "`":
                raw.append(self.backtick())
                literal = False
            else:
                raw.append(c)
                lit.append(c)
                self.adv()
                # name=( starts an array literal
                if c == "=" and self.peek() == "(" and ASSIGN_RE.match("".join(raw)) and not quoted:
                    return self.array("".join(raw))
        return Tok("word", Word("".join(raw), quoted, "".join(lit) if literal else None, line), line)

    def array(self, head):
        line = self.line
        name = head.rstrip("+=").split("[")[0]
        self.adv()  # (
        elems = []
        while self.i < len(self.s):
            c = self.peek()
            if c in " \t\n":
                self.adv()
                if c == "\n":
                    self.heredoc_bodies()
                continue
            if c == "#":
                while self.i < len(self.s) and self.peek() != "\n":
                    self.adv()
                continue
            if c == ")":
                self.adv()
                break
            t = self.word()
            if t.kind == "word" and t.value.raw:
                elems.append(t.value)
            elif t.kind == "word":
                self.adv()  # a metacharacter we do not expect here
        self.arrays.append((name, elems, line))
        return Tok("array", (name, elems), line)

    def heredoc_bodies(self):
        """Just after a newline: reads the pending here-document bodies; an
        unquoted one is scanned for command substitutions."""
        pending, self.heredocs = self.heredocs, []
        for delim, strip, expand in pending:
            body_line = self.line
            body = []
            while self.i < len(self.s):
                end = self.s.find("\n", self.i)
                if end < 0:
                    end = len(self.s)
                text = self.s[self.i:end]
                self.adv(end - self.i + 1)
                check = text.lstrip("\t") if strip else text
                if check == delim:
                    break
                body.append(text)
            if expand:
                sub = Shell("\n".join(body), self.path, body_line)
                sub.scan_expansions()
                self.absorb(sub)

    def scan_expansions(self):
        """For here-document bodies: only $(...) and `...` matter."""
        while self.i < len(self.s):
            c = self.peek()
            if c == "\\":
                self.adv(2)
            elif c == "$":
                self.dollar()
            elif c == "`":
                self.backtick()
            else:
                self.adv()

    def absorb(self, sub):
        self.commands += sub.commands
        self.arrays += sub.arrays
        self.forlists += sub.forlists
        self.subtexts += sub.subtexts

    def token(self, at_start):
        """Next token; at_start: a command may begin here (for # and ((...))."""
        while True:
            c = self.peek()
            if c in (" ", "\t"):
                self.adv()
            elif c == "\\" and self.peek(1) == "\n":
                self.adv(2)
            elif c == "#":
                while self.i < len(self.s) and self.peek() != "\n":
                    self.adv()
            else:
                break
        line = self.line
        c = self.peek()
        if c == "":
            return Tok("eof", None, line)
        if c == "\n":
            self.adv()
            self.heredoc_bodies()
            return Tok("nl", None, line)
        if c == "(" and self.peek(1) == "(" and at_start:
            self.skip_arith(2)
            return Tok("arith", None, line)
        for op in (";;&", ";;", ";&", "&&", "||", "|&", ";", "&", "|", "(", ")"):
            if self.s.startswith(op, self.i):
                if op == "&" and self.peek(1) == ">":
                    break
                self.adv(len(op))
                return Tok("op", op, line)
        if self.s.startswith(("<(", ">("), self.i):
            self.adv(2)
            self.parse(stop=")")
            self.adv()
            return Tok("word", Word("<(...)", False, None), line)
        for op in ("<<<", "<<-", "<<", "&>>", "&>", ">>", ">&", "<&", "<>", ">|", "<", ">"):
            if self.s.startswith(op, self.i):
                if op in ("<<", "<<-"):
                    self.want_delim = (op == "<<-",)
                self.adv(len(op))
                return Tok("redir", op, line)
        t = self.word()
        if t.kind == "word":
            # an fd number or {name} just before a redirection belongs to it
            if re.fullmatch(r"[0-9]+|\{[A-Za-z_][A-Za-z0-9_]*\}", t.value.raw) and self.peek() in "<>":
                return Tok("fd", t.value.raw, line)
            if self.want_delim is not None:
                strip = self.want_delim[0]
                self.want_delim = None
                delim = t.value.literal if t.value.literal is not None else t.value.raw.strip("'\"")
                self.heredocs.append((delim, strip, not t.value.quoted))
        return t

    # -- parsing
    def parse(self, stop=None):
        """Reads simple commands until EOF or, with stop=")", an unmatched )."""
        words, line = [], None
        case_state = []  # stack: "head" (case WORD in), "pattern", "body"
        depth = 0
        pending_redir = False
        for_state = None  # None, ["name"], ["name","in",[words]]
        cond = False  # inside [[ ]]
        fn_name_pending = False

        def finish():
            nonlocal words, line, for_state
            if for_state is not None and len(for_state) == 3:
                self.forlists.append((for_state[0], for_state[2], line))
                for_state = None
            elif words:
                self.commands.append((words, line))
            words, line = [], None

        while True:
            at_start = not words and not cond
            tok = self.token(at_start)
            if tok.kind == "eof":
                finish()
                return
            if cond:
                if tok.kind == "word" and tok.value.raw == "]]":
                    cond = False
                continue
            if case_state and case_state[-1] == "pattern":
                if tok.kind == "word" and tok.value.raw == "esac" and not words:
                    case_state.pop()
                    continue
                if tok.kind == "op" and tok.value == ")":
                    case_state[-1] = "body"
                continue
            if pending_redir:
                pending_redir = False
                if tok.kind == "word":
                    continue  # the redirection's target
            if tok.kind == "redir":
                pending_redir = True
                continue
            if tok.kind == "fd":
                continue
            if tok.kind == "arith":
                if for_state is not None:
                    for_state = None
                continue
            if tok.kind == "array":
                continue  # an assignment; recorded by the lexer
            if tok.kind == "nl" or (tok.kind == "op" and tok.value in (";", "&", "&&", "||", "|", "|&")):
                if case_state and case_state[-1] == "head" and tok.kind == "nl":
                    continue
                finish()
                continue
            if tok.kind == "op" and tok.value in (";;", ";&", ";;&"):
                finish()
                if case_state:
                    case_state[-1] = "pattern"
                continue
            if tok.kind == "op" and tok.value == "(":
                if len(words) == 1 and self.s[self.i:].lstrip(" \t").startswith(")"):
                    # name ( ) — a function definition
                    self.token(False)
                    words, line = [], None
                    continue
                finish()
                depth += 1
                continue
            if tok.kind == "op" and tok.value == ")":
                finish()
                if depth == 0 and stop == ")":
                    # leave the ) for the caller
                    self.i -= 1
                    return
                depth -= 1
                continue
            # a word
            w = tok.value
            if line is None:
                line = tok.line
            if not words:
                if for_state is not None:
                    pass
                elif w.raw == "[[":
                    cond = True
                    line = None
                    continue
                elif w.raw == "case":
                    case_state.append("head")
                    words = []
                    line = None
                    self.token(False)  # the word
                    continue
                elif w.raw == "in" and case_state and case_state[-1] == "head":
                    case_state[-1] = "pattern"
                    line = None
                    continue
                elif w.raw == "esac" and case_state:
                    case_state.pop()
                    line = None
                    continue
                elif w.raw == "for" or w.raw == "select":
                    for_state = []
                    continue
                elif w.raw == "function":
                    fn_name_pending = True
                    line = None
                    continue
                elif fn_name_pending:
                    fn_name_pending = False
                    line = None
                    continue
                elif w.raw in LEADERS:
                    line = None
                    continue
            if for_state is not None:
                if len(for_state) == 0:
                    for_state.append(w.raw)
                elif len(for_state) == 1 and w.raw == "in":
                    for_state += ["in", []]
                elif len(for_state) == 1 and w.raw == "do":
                    for_state = None
                    line = None
                elif len(for_state) == 3:
                    for_state[2].append(w)
                continue
            words.append(w)
