#!/bin/sh
# Bring the release a writer publishes to this replica (docs/deploy.md, "From another machine").
#
#   deploy/sync-release.sh SOURCE STAGING STORE [--stage]
#
# SOURCE   the writer's store as rsync names it: writer:/srv/sinlod/store (or a local path)
# STAGING  a directory on this machine, on the same file system as STORE, kept between runs
# STORE    the store `sinlod serve` serves here
# --stage  copy the release but do not switch to it yet (run again without it to switch)
#
# The order makes the staging copy a consistent store: CURRENT is read before the files are
# copied and written after, by a rename, and only if rsync succeeded. Files the release shares
# with the one staged before are hard-linked first, so rsync sends only what the release changed.
set -eu
source=$1 staging=$2 store=$3
shift 3
case $source in
    *:*) name=$(ssh "${source%%:*}" cat "${source#*:}/CURRENT") ;;
    *) name=$(cat "$source/CURRENT") ;;
esac
case $name in
    "" | */* | .*) echo "sync-release: $source/CURRENT names no release: '$name'" >&2; exit 2 ;;
esac
mkdir -p "$staging/snapshots"
previous=$(cat "$staging/CURRENT" 2>/dev/null || true)
if [ -n "$previous" ] && [ "$previous" != "$name" ] && [ -d "$staging/snapshots/$previous" ] \
    && [ ! -e "$staging/snapshots/$name" ]; then
    cp -al "$staging/snapshots/$previous" "$staging/snapshots/$name"
fi
rsync -aH --delete --delete-excluded \
    --include /FORMAT --include /snapshots/ --include "/snapshots/$name/***" \
    --include "/snapshots/$name.releases" --include '/snapshots/releases-*.nq' \
    --exclude '/versions/building-*' --include '/versions/***' --exclude '*' \
    "$source/" "$staging/"
printf '%s\n' "$name" > "$staging/.CURRENT.new"
mv "$staging/.CURRENT.new" "$staging/CURRENT"
exec sinlod replicate --from "$staging" --to "$store" --link "$@"
