#!/usr/bin/env bash
set -euo pipefail
python bench/startup.py
