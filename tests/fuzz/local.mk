# libFuzzer targets of libsiov's parsers and validators (clang, ASan +
# UBSan), built and run by tests/fuzz/run against the library sources; not
# part of `make check` (they need clang, and they run for a set time).
#   make check-fuzz [FUZZ_SECONDS=20]      the short run of the test command
#   tests/fuzz/run 600                     the long run (RESULTS.md)
FUZZ_SECONDS = 20
EXTRA_DIST += \
	tests/fuzz/run \
	tests/fuzz/fuzz.h \
	tests/fuzz/fuzz-attr.c \
	tests/fuzz/fuzz-names.c \
	tests/fuzz/fuzz-paths.c \
	tests/fuzz/fuzz-definition.c \
	tests/fuzz/fuzz-mdevctl.c \
	tests/fuzz/json.dict \
	tests/fuzz/RESULTS.md \
	tests/fuzz/corpus

check-fuzz:
	FUZZ_BUILD='$(abs_top_builddir)/_build-fuzz' $(top_srcdir)/tests/fuzz/run $(FUZZ_SECONDS)
.PHONY: check-fuzz
