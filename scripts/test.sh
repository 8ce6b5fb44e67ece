#!/usr/bin/env bash
# The whole test suite. Installs what the tests need when it is missing (redis-server,
# chromium and oathtool from Debian's packages) and fails, never skips, when it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v oathtool >/dev/null 2>&1 || need+=(oathtool)
if [ ${#need[@]} -gt 0 ]; then
  echo "test: installing ${need[*]} from Debian's packages"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v redis-server >/dev/null || { echo "test: redis-server is required" >&2; exit 1; }
[ -x /usr/bin/chromium ] || { echo "test: /usr/bin/chromium is required" >&2; exit 1; }

[ -d node_modules ] || npm ci

npx tsc --noEmit -p .

# The suite on Express 5 (the devDependency), then again on Express 4 (the `express4` alias;
# test/support/express-major.mjs makes every `express` import, the package's own included,
# resolve to it). The consumer test is not repeated: it installs the packed tarball next to
# Express 5 and next to Express 4 itself. Nor is the README app's test: it installs whatever
# Express the README's install line brings. The bench smoke test runs its own child processes.
# Both runs always happen, so a failure on one major does not hide the other's result.
status=0
echo "test: Express 5"
EXPRESS_MAJOR=5 npx mocha "$@" || status=1
echo "test: Express 4"
EXPRESS_MAJOR=4 npx mocha --ignore test/consumer.test.ts --ignore test/readme-app.test.ts --ignore test/bench-smoke.test.ts "$@" || status=1
exit $status
