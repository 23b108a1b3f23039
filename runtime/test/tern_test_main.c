/* Runner for tern_test.h: runs registered cases in order, each once. */
#include "tern_test.h"

#include <stdlib.h>

typedef struct {
  const char *name;
  tern_test_fn fn;
} test_case_t;

static test_case_t *cases;
static size_t ncases, capcases;
int tern_test_failed;

void tern_test_register(const char *name, tern_test_fn fn) {
  if (ncases == capcases) {
    capcases = capcases ? capcases * 2 : 64;
    cases = realloc(cases, capcases * sizeof *cases);
    if (!cases) abort();
  }
  cases[ncases].name = name;
  cases[ncases].fn = fn;
  ncases++;
}

const char *tern_test_srcdir(void) {
  const char *d = getenv("TERN_SOURCE_DIR");
#ifdef TERN_SOURCE_DIR_DEFAULT
  if (!d) d = TERN_SOURCE_DIR_DEFAULT;
#endif
  return d ? d : ".";
}

static int selected(int argc, char **argv, const char *name) {
  if (argc < 2) return 1;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], name) == 0) return 1;
  return 0;
}

int main(int argc, char **argv) {
  size_t passed = 0, failed = 0;
  setvbuf(stdout, NULL, _IONBF, 0);
  for (size_t i = 0; i < ncases; i++) {
    if (!selected(argc, argv, cases[i].name)) continue;
    tern_test_failed = 0;
    cases[i].fn();
    if (tern_test_failed) {
      failed++;
      printf("not ok - %s\n", cases[i].name);
    } else {
      passed++;
      printf("ok - %s\n", cases[i].name);
    }
  }
  printf("%zu passed, %zu failed\n", passed, failed);
  free(cases);
  return failed ? 1 : 0;
}
