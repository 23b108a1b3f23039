/* tern-conformance-server (wrapped by conformance/run-server): runs the
 * protocol scenarios of conformance/cases (JSON files) and rs_frames.c against any
 * name server (and broker) address and prints one line per case; failures
 * show the request sent, the reply received and what the spec expected.
 *
 * usage: tern-conformance-server --namesrv HOST:PORT [--broker HOST:PORT]
 *          [--ser json|rocketmq|both] [--cases DIR] [--junit FILE] [--only TEXT]
 *          [--timeout-ms N]
 *        tern-conformance-server --namesrv HOST:PORT --broker HOST:PORT --setup-topic NAME
 *          (creates NAME with 4 queues and waits for its route; used by run-client --topic)
 * Exit 0 when nothing failed, 1 on a failure, 2 on a usage error. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conformance/server/rs.h"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void xml_escape(FILE *f, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '<') fputs("&lt;", f);
    else if (c == '>') fputs("&gt;", f);
    else if (c == '&') fputs("&amp;", f);
    else if (c == '"') fputs("&quot;", f);
    else if (c < 0x20 && c != '\n' && c != '\t') fprintf(f, "\\x%02x", c);
    else fputc(c, f);
  }
}

static int write_junit(const char *path, const rs_result_t *r, size_t n) {
  FILE *f = fopen(path, "w");
  size_t fails = 0, skips = 0;
  double total = 0;
  if (!f) return -1;
  for (size_t i = 0; i < n; i++) {
    fails += r[i].status == RS_FAIL;
    skips += r[i].status == RS_SKIP;
    total += r[i].ms;
  }
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  fprintf(f, "<testsuite name=\"tern-conformance-server\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
          n, fails, skips, total / 1000);
  for (size_t i = 0; i < n; i++) {
    fprintf(f, "  <testcase classname=\"server\" name=\"");
    xml_escape(f, r[i].name, strlen(r[i].name));
    fprintf(f, "\" time=\"%.3f\">", r[i].ms / 1000);
    if (r[i].status == RS_FAIL) {
      fprintf(f, "<failure message=\"");
      xml_escape(f, r[i].spec, strlen(r[i].spec));
      fprintf(f, "\">");
      xml_escape(f, (const char *)r[i].detail.p, r[i].detail.len);
      fprintf(f, "</failure>");
    } else if (r[i].status == RS_SKIP) {
      fprintf(f, "<skipped/>");
    }
    fprintf(f, "<properties><property name=\"spec_section\" value=\"");
    xml_escape(f, r[i].spec, strlen(r[i].spec));
    fprintf(f, "\"/></properties></testcase>\n");
  }
  fprintf(f, "</testsuite>\n");
  return fclose(f);
}

static void usage(void) {
  fprintf(stderr, "usage: tern-conformance-server --namesrv HOST:PORT [--broker HOST:PORT] [--ser json|rocketmq|both]\n"
                  "         [--cases DIR] [--junit FILE] [--only TEXT] [--timeout-ms N] [-v]\n");
}

int main(int argc, char **argv) {
  rs_env_t env;
  const char *ser = "both", *cases_dir = NULL, *junit = NULL, *only = NULL, *setup_topic = NULL;
  rs_result_t *res = NULL;
  size_t n = 0, cap = 0;
  char defdir[512];
  memset(&env, 0, sizeof env);
  env.timeout_ms = 5000;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "-v") == 0) { env.verbose = true; continue; }
    if (!v) { usage(); return 2; }
    if (strcmp(a, "--namesrv") == 0) env.namesrv = v;
    else if (strcmp(a, "--broker") == 0) env.broker = v;
    else if (strcmp(a, "--ser") == 0) ser = v;
    else if (strcmp(a, "--cases") == 0) cases_dir = v;
    else if (strcmp(a, "--junit") == 0) junit = v;
    else if (strcmp(a, "--only") == 0) only = v;
    else if (strcmp(a, "--timeout-ms") == 0) env.timeout_ms = atoi(v);
    else if (strcmp(a, "--setup-topic") == 0) setup_topic = v;
    else { usage(); return 2; }
    i++;
  }
  if (!env.namesrv || (strcmp(ser, "json") && strcmp(ser, "rocketmq") && strcmp(ser, "both"))) {
    usage();
    return 2;
  }
  if (setup_topic) {
    env.ser = TERN_SER_JSON;
    return rs_setup_topic(&env, setup_topic, 4);
  }
  if (!cases_dir) {
    const char *src = getenv("TERN_SOURCE_DIR");
#ifdef TERN_CONFORMANCE_CASES_DIR
    if (!src) {
      snprintf(defdir, sizeof defdir, "%s", TERN_CONFORMANCE_CASES_DIR);
      cases_dir = defdir;
    }
#endif
    if (src) {
      snprintf(defdir, sizeof defdir, "%s/conformance/cases", src);
      cases_dir = defdir;
    }
    if (!cases_dir) {
      fprintf(stderr, "run-server: --cases DIR needed\n");
      return 2;
    }
  }
  /* case files, sorted */
  char *files[256];
  int nf = 0;
  DIR *dir = opendir(cases_dir);
  if (!dir) {
    fprintf(stderr, "run-server: cannot open %s\n", cases_dir);
    return 2;
  }
  for (struct dirent *e; (e = readdir(dir)) && nf < 256;) {
    size_t l = strlen(e->d_name);
    if (l > 5 && strcmp(e->d_name + l - 5, ".json") == 0) {
      files[nf] = malloc(strlen(cases_dir) + l + 2);
      sprintf(files[nf], "%s/%s", cases_dir, e->d_name);
      nf++;
    }
  }
  closedir(dir);
  qsort(files, (size_t)nf, sizeof files[0], cmp_str);

  for (int pass = 0; pass < 2; pass++) {
    if (pass == 0 && strcmp(ser, "rocketmq") == 0) continue;
    if (pass == 1 && strcmp(ser, "json") == 0) continue;
    env.ser = pass == 0 ? TERN_SER_JSON : TERN_SER_ROCKETMQ;
    env.ser_name = pass == 0 ? "json" : "rocketmq";
    snprintf(env.run, sizeof env.run, "%ld_%d_%s", (long)time(NULL) % 100000, (int)getpid(), pass ? "r" : "j");
    if (rs_discover(&env) != 0) fprintf(stderr, "run-server: the name server at %s does not answer\n", env.namesrv);
    printf("# pass %s: namesrv %s, broker %s (%s, cluster %s)\n", env.ser_name, env.namesrv,
           env.broker ? env.broker : "(none)", env.broker ? env.broker_name : "-", env.broker ? env.cluster : "-");
    for (int i = 0; i < nf; i++)
      if (rs_run_case_file(&env, files[i], only, &res, &n, &cap) != 0) {
        fprintf(stderr, "run-server: %s: cannot load\n", files[i]);
        return 2;
      }
    for (size_t i = 0; i < rs_n_ccases; i++) {
      const rs_ccase_t *cc = &rs_ccases[i];
      if (only && !strstr(cc->name, only)) continue;
      if (n == cap) {
        cap = cap ? cap * 2 : 64;
        res = realloc(res, cap * sizeof *res);
      }
      rs_result_t *r = &res[n++];
      memset(r, 0, sizeof *r);
      snprintf(r->name, sizeof r->name, "%s [%s]", cc->name, env.ser_name);
      snprintf(r->spec, sizeof r->spec, "%s", cc->spec);
      tern_buf_init(&r->detail, 0);
      double t0 = rs_now_ms();
      if (cc->needs_broker && !env.broker) {
        r->status = RS_SKIP;
        tern_buf_printf(&r->detail, "    skipped: needs --broker\n");
      } else {
        r->status = cc->fn(&env, &r->detail);
      }
      r->ms = rs_now_ms() - t0;
    }
  }

  size_t pass_n = 0, fail_n = 0, skip_n = 0;
  for (size_t i = 0; i < n; i++) {
    const rs_result_t *r = &res[i];
    const char *tag = r->status == RS_PASS ? "pass" : r->status == RS_FAIL ? "FAIL" : "skip";
    printf("%-4s %-58s %6.0f ms  [%s]\n", tag, r->name, r->ms, r->spec);
    if (r->status != RS_PASS || env.verbose) fwrite(r->detail.p, 1, r->detail.len, stdout);
    pass_n += r->status == RS_PASS;
    fail_n += r->status == RS_FAIL;
    skip_n += r->status == RS_SKIP;
  }
  printf("# %zu cases: %zu pass, %zu fail, %zu skip\n", n, pass_n, fail_n, skip_n);
  if (junit && write_junit(junit, res, n) != 0) fprintf(stderr, "run-server: cannot write %s\n", junit);
  for (size_t i = 0; i < n; i++) tern_buf_free(&res[i].detail);
  free(res);
  for (int i = 0; i < nf; i++) free(files[i]);
  return fail_n ? 1 : 0;
}
