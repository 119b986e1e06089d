/*
 * libFuzzer's entry point for a program that has its own main(): the
 * sanitizer runtime (swiftc -sanitize=fuzzer) defines it. SwiftPM gives an
 * executable's top-level code the symbol <Target>_main and links it as
 * main, so each fuzz target's main.swift calls this.
 */

#ifndef FUZZ_DRIVER_H
#define FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv,
    int (*callback)(const uint8_t *data, size_t size));

#endif /* FUZZ_DRIVER_H */
