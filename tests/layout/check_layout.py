#!/usr/bin/env python3
"""check_layout.py REPO — the arrows of docs/architecture.md hold in the code.

Reads the "Folders and who may call whom" table of docs/architecture.md (the
single statement of the rule) and checks every #include in hub/, agents/ and
common/ against it:
  1. a file in a stage folder includes only its own folder, the folders its
     row allows, and common headers (parkhub/...);
  2. common/ and include/parkhub/ include nothing of hub/ or agents/;
  3. every header in include/parkhub/ belongs to common (a common/*.c
     includes it): headers of one side live beside that side;
  4. every stage folder on disk has a row (a new folder must be placed).
Exit 1 with one line per violation. --selftest checks that a violation of
each kind is reported (so the check cannot silently pass everything).
"""
import os, re, sys

INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
ROW = re.compile(r'^\|\s*`(hub|agents)/([a-z0-9_]+)/`[^|]*\|[^|]*\|\s*([^|]+)\|\s*$', re.M)


def allowed_table(doc):
    """{('hub','store'): {'config','ingest',...} or {'*'}}"""
    table = {}
    for side, stage, may in ROW.findall(doc):
        may = re.sub(r'\([^)]*\)', '', may)
        names = set()
        for w in may.split(','):
            w = w.strip().strip('`').strip()
            if not w:
                continue
            if w.startswith('everything'):
                names.add('*')
            elif w.startswith('agents/'):
                names.add(w.split('/')[1])
            else:
                names.add(w.split()[0])
        table[(side, stage)] = names
    return table


def includes(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        return INC.findall(f.read())


def check(repo, table, problems):
    common_h = {f for f in os.listdir(os.path.join(repo, 'include/parkhub')) if f.endswith('.h')}
    used_by_common = set()
    for d in ('common', 'include/parkhub'):
        for f in sorted(os.listdir(os.path.join(repo, d))):
            if not f.endswith(('.c', '.h')):
                continue
            for inc in includes(os.path.join(repo, d, f)):
                if '/' in inc and not inc.startswith('parkhub/'):
                    problems.append(f'{d}/{f}: includes "{inc}": common code includes nothing of hub or agents')
                if inc.startswith('parkhub/') and d == 'common':
                    used_by_common.add(inc.split('/', 1)[1])
    for h in sorted(common_h - used_by_common):
        problems.append(f'include/parkhub/{h}: no common/*.c includes it; a header of one side lives beside that side')
    for side in ('hub', 'agents'):
        root = os.path.join(repo, side)
        stages = sorted(d for d in os.listdir(root)
                        if os.path.isdir(os.path.join(root, d)) and any(
                            f.endswith(('.c', '.h')) for f in os.listdir(os.path.join(root, d))))
        for st in stages:
            if (side, st) not in table:
                problems.append(f'{side}/{st}/: no row in docs/architecture.md says what it may include')
                continue
            may = table[(side, st)]
            for f in sorted(os.listdir(os.path.join(root, st))):
                if not f.endswith(('.c', '.h')):
                    continue
                for inc in includes(os.path.join(root, st, f)):
                    if '/' not in inc or inc.startswith('parkhub/'):
                        continue
                    other = inc.split('/')[0]
                    if other == st or '*' in may or other in may:
                        continue
                    problems.append(f'{side}/{st}/{f}: includes "{inc}"; {side}/{st}/ may include only '
                                    f'{", ".join(sorted(may)) or "common"} (docs/architecture.md)')


def selftest():
    import tempfile
    with tempfile.TemporaryDirectory() as t:
        for d in ('common', 'include/parkhub', 'hub/a', 'hub/b', 'hub/c', 'agents/x'):
            os.makedirs(os.path.join(t, d))
        open(os.path.join(t, 'include/parkhub/ok.h'), 'w').write('')
        open(os.path.join(t, 'include/parkhub/lonely.h'), 'w').write('')
        open(os.path.join(t, 'common/ok.c'), 'w').write('#include "parkhub/ok.h"\n#include "a/a.h"\n')
        open(os.path.join(t, 'hub/a/a.h'), 'w').write('#include "b/b.h"\n')
        open(os.path.join(t, 'hub/b/b.h'), 'w').write('#include "a/a.h"\n#include "parkhub/ok.h"\n')
        open(os.path.join(t, 'hub/c/c.c'), 'w').write('')
        open(os.path.join(t, 'agents/x/x.c'), 'w').write('')
        doc = ('| `hub/a/` | x | common |\n| `hub/b/` | x | a (types) |\n| `agents/x/` | x | everything |\n')
        problems = []
        check(t, allowed_table(doc), problems)
        want = ['common/ok.c: includes "a/a.h"', 'include/parkhub/lonely.h', 'hub/a/a.h: includes "b/b.h"',
                'hub/c/: no row']
        missing = [w for w in want if not any(p.startswith(w) for p in problems)]
        if missing or len(problems) != len(want):
            print('selftest failed: expected', want, 'got', problems)
            return 1
    print('selftest: every kind of violation is reported')
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--selftest':
        return selftest()
    repo = sys.argv[1] if len(sys.argv) > 1 else '.'
    with open(os.path.join(repo, 'docs/architecture.md'), encoding='utf-8') as f:
        table = allowed_table(f.read())
    if not table:
        print('docs/architecture.md: no "who may call whom" table found')
        return 1
    problems = []
    check(repo, table, problems)
    for p in problems:
        print(p)
    print(f'layout: {len(table)} stage folders, {len(problems)} violation(s)')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
