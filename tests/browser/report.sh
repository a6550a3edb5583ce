#!/usr/bin/env bash
# tests/browser/report.sh [BUILD_DIR] — the annual report printed on A4 in
# Chromium (issue #18: the "Data availability" column of both compliance
# tables was cut off on paper).
#
# Installs what it needs when missing (Debian's chromium, nodejs, npm, the
# CJK font, poppler-utils for pdftotext; playwright-core as
# package-lock.json pins it, never a browser of its own). Makes the report
# of a generated month in zh-CN and en with the real `parkhub report`
# (tests/integration/test_hub_report.c, its language test, keeps the
# files), then report.mjs opens each in print media at A4 and checks every
# cell ends inside the page's content width, prints it to PDF, and this
# script checks with pdftotext that the PDF holds the last column's heading
# of both compliance tables in that language. The zh-CN screenshot lands
# in BUILD_DIR/report-zh-CN.png (README's is docs/report-zh-CN.png).
# Bounded: the report test has its ctest timeout, node's waits are bounded.
# Exit 0 only when every check passed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-${BUILD_DIR:-$here/../../build}}" && pwd)

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v pdftotext >/dev/null || need+=(poppler-utils)
dpkg-query -W -f='${Status}' fonts-wqy-microhei 2>/dev/null | grep -q 'install ok installed' || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  echo "report print test: installing ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
for tool in /usr/bin/chromium node npm pdftotext; do
  command -v "$tool" >/dev/null || { echo "report print test: cannot run: $tool is not installed"; echo "0 passed, 1 failed"; exit 1; }
done
want=$(sed -n 's/^ *"playwright-core": "\(.*\)"$/\1/p' "$here/package.json")
have=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$here/node_modules/playwright-core/package.json" 2>/dev/null || true)
[ "$have" = "$want" ] || (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)

# The two reports, by the integration test's generator and the real command.
log=$(mktemp /tmp/parkhub-report-print-XXXXXX.log)
keep=""
cleanup() {
  if [ -n "$keep" ] && [ -z "${PHT_KEEP:-}" ]; then rm -rf "$keep"; fi
  rm -f "$log"
}
trap cleanup EXIT
PHT_KEEP=1 PH_PARKHUB="$build/hub/parkhub" "$build/tests/integration/test_hub_report_e2e" \
  --filter 'report/report_speaks_the_park_language_or_the_one_asked' >"$log" 2>&1 || {
  echo "report print test: making the reports failed:"; tail -20 "$log"; echo "0 passed, 1 failed"; exit 1; }
keep=$(sed -n 's/^test_hub_report: kept //p' "$log" | tail -1)
if [ -z "$keep" ] || [ ! -s "$keep/report.zh-CN.html" ] || [ ! -s "$keep/report.en.html" ]; then
  echo "report print test: the reports were not kept:"; tail -20 "$log"; echo "0 passed, 1 failed"; exit 1
fi

set +e
node "$here/report.mjs" "$keep" "$build/report-zh-CN.png"
rc=$?
set -e
# The PDF's text: the heading of the compliance tables' last column, in the
# page's language, once per table (the park's and every enterprise's hourly
# and daily tables); whitespace dropped, since a narrow header wraps.
passed=0 failed=0
for lang in zh-CN en; do
  case $lang in zh-CN) heading="数据有效率" ;; *) heading="Dataavailability" ;; esac
  want=$(grep -o '<h4>[^<]*</h4>' "$keep/report.$lang.html" | grep -c -e '小时均值' -e '日均值' -e 'Hourly means' -e 'Daily means' || true)
  got=$(pdftotext "$keep/report.$lang.pdf" - 2>/dev/null | tr -d ' \n\r\t\f' | grep -o "$heading" | wc -l)
  if [ "$want" -ge 2 ] && [ "$got" -ge "$want" ]; then
    passed=$((passed + 1)); echo "ok   the $lang PDF holds \"$heading\" under each of its $want compliance tables"
  else
    failed=$((failed + 1)); echo "FAIL the $lang PDF holds \"$heading\" $got times for $want compliance tables"
  fi
done
echo "pdftotext: $passed passed, $failed failed"
[ $rc -eq 0 ] && [ $failed -eq 0 ]
