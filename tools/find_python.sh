#!/bin/sh
# Print the path of the newest Python that really runs and is one of the versions given
# (default: the course's 3.13 3.12 3.11); print nothing if there is none.
# A pyenv shim for a version that is not active is on PATH but exits with an error, so every
# candidate is asked for its version. PATH comes first; pyenv's installed versions after.
#   sh tools/find_python.sh          -> /usr/bin/python3.12
#   sh tools/find_python.sh 3.13     -> a 3.13 only
versions=${*:-3.13 3.12 3.11}
pyenv_dir=${PYENV_ROOT:-$HOME/.pyenv}/versions
try() {
  got=$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || return 1
  [ "$got" = "$2" ] && command -v "$1" && exit 0
  return 1
}
for want in $versions; do try "python$want" "$want"; try python3 "$want"; done
for want in $versions; do
  for p in "$pyenv_dir/$want"*/bin/"python$want"; do try "$p" "$want"; done
done
exit 0
