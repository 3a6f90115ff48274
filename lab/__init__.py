"""The compute lab: QEMU guests with a real Debian 6.1 kernel and a stand-in vRouter module.

``from lab.lab import Lab, Guest, GuestSpec``; command line: ``python3 -m lab --help``.
"""
