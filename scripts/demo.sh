#!/usr/bin/env bash
set -euo pipefail
scaiwave --help
scaiwave plugins
