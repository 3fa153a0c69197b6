// Defaults of the sanitizer runtimes, linked into each executable of the S3HC_SANITIZE build
// only (proxy, unit tests, fuzz targets): any finding fails the run, a leak at exit included.
// ASAN_OPTIONS / UBSAN_OPTIONS in the environment add to these and override them.

extern "C" __attribute__((visibility("default"), used)) const char* __asan_default_options() {
  return "halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:"
         "check_initialization_order=1:strict_init_order=1";
}

extern "C" __attribute__((visibility("default"), used)) const char* __ubsan_default_options() {
  return "halt_on_error=1:print_stacktrace=1";
}
