/* bench_codec: what the codecs cost per operation, measured beside a memcpy of
 * the same bytes in the same run (the ratio is the number to watch; absolute
 * times depend on the machine). Cases:
 *   send_v2 (JSON and ROCKETMQ headers): a SEND_MESSAGE_V2 request with a
 *     realistic SendMessageRequestHeaderV2 and a 1 KiB body, encoded through
 *     gen/headers.h + gen/command.h (and the command layer alone, extFields
 *     prebuilt), then framed, decoded and header-decoded;
 *   pull_32: a pull response carrying 32 stored records (256-byte bodies),
 *     records encoded with gen/message.h, then the frame decoded and every
 *     record walked.
 * Each figure is the best of ROUNDS rounds (the machine is shared; the best
 * round is the least disturbed one), memcpy included.
 * Usage: bench_codec [iterations]   (per round, default 40000; pull uses 1/8 of them) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gen/codes.h"
#include "gen/command.h"
#include "gen/headers.h"
#include "gen/message.h"

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: other load on the box does not count */
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_codec: %s failed: %s\n", what, tern_errname(rc));
  exit(1);
}

#define ROUNDS 5

/* Keeps results alive so the compiler cannot drop the work. */
static volatile uint64_t sink;

static double bench_memcpy(const uint8_t *src, size_t n, long iters) {
  /* Place dst half a page away from src (mod 4096): on this class of VM a copy
   * between buffers at the same page offset can run several times slower (4K
   * aliasing), which would flatter every ratio. */
  uint8_t *base = malloc(n + 8192);
  if (!base) die("malloc", TERN_ENOMEM);
  uintptr_t want = ((uintptr_t)src + 2048) & 4095, have = (uintptr_t)base & 4095;
  uint8_t *dst = base + ((want - have) & 4095);
  memcpy(dst, src, n); /* first touch outside the timing */
  double best = 0;
  for (int round = 0; round < ROUNDS; round++) {
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
      memcpy(dst, src, n);
      __asm__ __volatile__("" : : "r"(dst) : "memory");
      sink += dst[i % (long)n];
    }
    double ns = (now_ns() - t0) / (double)iters;
    if (round == 0 || ns < best) best = ns;
  }
  free(base);
  return best;
}

static void report(const char *name, double ns, size_t bytes, double memcpy_ns) {
  printf("%-28s %9.1f ns/op %9.1f MB/s   memcpy %7.1f ns/op   ratio %6.1fx\n", name, ns, (double)bytes / ns * 1e3,
         memcpy_ns, ns / memcpy_ns);
}

/* ------------------------------------------------------------ send v2 */

static uint8_t body_1k[1024];

static void build_send(tern_cmd_t *cmd, tern_arena_t *scratch, uint8_t ser) {
  tern_hdr_send_message_request_v2_t h;
  memset(&h, 0, sizeof h);
  h.producer_group = TERN_STR("please_rename_unique_group_name");
  h.topic = TERN_STR("BenchmarkTopic");
  h.default_topic = TERN_STR("TBW102");
  h.default_topic_queue_nums = 4;
  h.queue_id = 3;
  h.sys_flag = 0;
  h.born_timestamp = 1700000000123;
  h.flag = 0;
  h.properties = TERN_STR(
      "KEYS\001order-000123\002UNIQ_KEY\0017F0000017A2C18B4AAC27F1D2E3F0000\002WAIT\001true\002"
      "TAGS\001TagA\002");
  h.reconsume_times = 0;
  h.unit_mode = false;
  h.batch = false;
  h.broker_name = TERN_STR("broker-a");
  h.present = TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_PRODUCER_GROUP | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_TOPIC |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_DEFAULT_TOPIC |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_DEFAULT_TOPIC_QUEUE_NUMS |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_QUEUE_ID | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_SYS_FLAG |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_BORN_TIMESTAMP | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_FLAG |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_PROPERTIES | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_RECONSUME_TIMES |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_UNIT_MODE | TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_BATCH |
              TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_BROKER_NAME;
  tern_cmd_init(cmd);
  cmd->code = TERN_REQ_SEND_MESSAGE_V2;
  cmd->version = 409;
  cmd->opaque = 12345;
  cmd->serialize_type = ser;
  cmd->body.p = (const char *)body_1k;
  cmd->body.n = sizeof body_1k;
  int rc = tern_hdr_send_message_request_v2_encode(&h, cmd, scratch);
  if (rc) die("send header encode", rc);
}

static void bench_send(uint8_t ser, long iters) {
  static tern_cmd_t cmd, dec;
  uint8_t block[8192];
  tern_arena_t scratch;
  tern_arena_init(&scratch, 1 << 20, block, sizeof block);
  tern_buf_t out;
  tern_buf_init(&out, 0);
  int rc;

  /* Encode: header struct -> extFields -> frame bytes. */
  double enc = 0, decn = 0, t0;
  for (int round = 0; round < ROUNDS; round++) {
    t0 = now_ns();
    for (long i = 0; i < iters; i++) {
      tern_arena_reset(&scratch);
      tern_buf_reset(&out);
      build_send(&cmd, &scratch, ser);
      if ((rc = tern_cmd_encode(&cmd, &out)) != 0) die("encode", rc);
      sink += out.len;
    }
    double ns = (now_ns() - t0) / (double)iters;
    if (round == 0 || ns < enc) enc = ns;
  }

  /* The command layer alone: extFields already built, frame bytes out. */
  double frame_enc = 0;
  tern_arena_reset(&scratch);
  build_send(&cmd, &scratch, ser);
  for (int round = 0; round < ROUNDS; round++) {
    t0 = now_ns();
    for (long i = 0; i < iters; i++) {
      tern_buf_reset(&out);
      if ((rc = tern_cmd_encode(&cmd, &out)) != 0) die("encode", rc);
      sink += out.len;
    }
    double ns = (now_ns() - t0) / (double)iters;
    if (round == 0 || ns < frame_enc) frame_enc = ns;
  }

  /* Decode: frame -> command -> header struct. */
  tern_frame_parser_t p;
  tern_frame_parser_init(&p, 0);
  for (int round = 0; round < ROUNDS; round++) {
    t0 = now_ns();
    for (long i = 0; i < iters; i++) {
      tern_frame_t f;
      tern_err_t err;
      tern_hdr_send_message_request_v2_t h;
      tern_arena_reset(&scratch);
      if (tern_frame_next(&p, out.p, out.len, &f, &err) != (int)out.len) die("frame", err.code);
      if ((rc = tern_cmd_decode(&f, &dec, &scratch, &err)) != 0) die("decode", rc);
      if ((rc = tern_hdr_send_message_request_v2_decode(&dec, &h, &err)) != 0) die("header decode", rc);
      sink += (uint64_t)h.queue_id + dec.body.n;
    }
    double ns = (now_ns() - t0) / (double)iters;
    if (round == 0 || ns < decn) decn = ns;
  }

  double mc = bench_memcpy(out.p, out.len, iters);
  char name[64];
  const char *tag = ser == TERN_SER_JSON ? "json" : "rocketmq";
  printf("send_v2 %s: frame %zu bytes (header %zu with %u extFields, body 1024)\n", tag, out.len, out.len - 8 - 1024,
         cmd.n_ext);
  snprintf(name, sizeof name, "send_v2 %s encode", tag);
  report(name, enc, out.len, mc);
  snprintf(name, sizeof name, "  of which tern_cmd_encode");
  report(name, frame_enc, out.len, mc);
  snprintf(name, sizeof name, "send_v2 %s decode", tag);
  report(name, decn, out.len, mc);
  tern_buf_free(&out);
  tern_arena_free(&scratch);
}

/* ------------------------------------------------------------ pull 32 */

#define PULL_RECORDS 32
#define PULL_BODY 256

static void bench_pull_32(long iters) {
  static uint8_t bodies[PULL_RECORDS][PULL_BODY];
  tern_msg_record_t r[PULL_RECORDS];
  size_t total = 0;
  for (int i = 0; i < PULL_RECORDS; i++) {
    memset(bodies[i], 'a' + i % 26, PULL_BODY);
    memset(&r[i], 0, sizeof r[i]);
    r[i].magic = TERN_MSG_MAGIC_V1;
    r[i].body = (tern_str_t){(const char *)bodies[i], PULL_BODY};
    r[i].topic = TERN_STR("BenchmarkTopic");
    r[i].properties = TERN_STR("UNIQ_KEY\0017F0000017A2C18B4AAC27F1D2E3F0000\002WAIT\001true\002TAGS\001TagA\002");
    r[i].body_crc = (int32_t)tern_crc32_body(bodies[i], PULL_BODY);
    r[i].queue_id = 3;
    r[i].queue_offset = 1000 + i;
    r[i].physical_offset = 1 << 20;
    r[i].born_timestamp = 1700000000123;
    r[i].store_timestamp = 1700000000125;
    r[i].born_host = (tern_host_t){{127, 0, 0, 1}, 4, 50000};
    r[i].store_host = (tern_host_t){{127, 0, 0, 1}, 4, 10911};
    r[i].total_size = (int32_t)tern_msg_record_size(&r[i]);
    total += (size_t)r[i].total_size;
  }
  uint8_t *records = malloc(total);
  if (!records) die("malloc", TERN_ENOMEM);
  static tern_cmd_t cmd, dec;
  uint8_t block[4096];
  tern_arena_t scratch;
  tern_arena_init(&scratch, 1 << 20, block, sizeof block);
  tern_buf_t out;
  tern_buf_init(&out, 0);
  int rc;

  double enc = 0, decn = 0, t0;
  for (int round = 0; round < ROUNDS; round++) {
    t0 = now_ns();
    for (long it = 0; it < iters; it++) {
      size_t off = 0;
      for (int i = 0; i < PULL_RECORDS; i++) {
        if ((rc = tern_msg_record_encode(&r[i], records + off, total - off)) != 0) die("record encode", rc);
        off += (size_t)r[i].total_size;
      }
      tern_arena_reset(&scratch);
      tern_buf_reset(&out);
      tern_hdr_pull_message_response_t h = {0};
      h.present = TERN_HDR_PULL_MESSAGE_RESPONSE_HAS_SUGGEST_WHICH_BROKER_ID |
                  TERN_HDR_PULL_MESSAGE_RESPONSE_HAS_NEXT_BEGIN_OFFSET | TERN_HDR_PULL_MESSAGE_RESPONSE_HAS_MIN_OFFSET |
                  TERN_HDR_PULL_MESSAGE_RESPONSE_HAS_MAX_OFFSET;
      h.next_begin_offset = 1032;
      h.max_offset = 5000;
      tern_cmd_init(&cmd);
      cmd.flag = TERN_FLAG_RESPONSE;
      cmd.opaque = 77;
      cmd.version = 409;
      cmd.has_remark = true;
      cmd.remark = TERN_STR("FOUND");
      if ((rc = tern_hdr_pull_message_response_encode(&h, &cmd, &scratch)) != 0) die("pull header encode", rc);
      cmd.body = (tern_str_t){(const char *)records, total};
      if ((rc = tern_cmd_encode(&cmd, &out)) != 0) die("encode", rc);
      sink += out.len;
    }
    double ns = (now_ns() - t0) / (double)iters;
    if (round == 0 || ns < enc) enc = ns;
  }

  tern_frame_parser_t p;
  tern_frame_parser_init(&p, 0);
  for (int round = 0; round < ROUNDS; round++) {
    t0 = now_ns();
    for (long it = 0; it < iters; it++) {
      tern_frame_t f;
      tern_err_t err;
      tern_hdr_pull_message_response_t h;
      tern_arena_reset(&scratch);
      if (tern_frame_next(&p, out.p, out.len, &f, &err) != (int)out.len) die("frame", err.code);
      if ((rc = tern_cmd_decode(&f, &dec, &scratch, &err)) != 0) die("decode", rc);
      if ((rc = tern_hdr_pull_message_response_decode(&dec, &h, &err)) != 0) die("pull header decode", rc);
      tern_msg_record_iter_t ri;
      tern_msg_record_iter_init(&ri, (const uint8_t *)dec.body.p, dec.body.n);
      tern_msg_record_t m;
      int n = 0;
      while ((rc = tern_msg_record_iter_next(&ri, &m, &err)) == 1) {
        n++;
        sink += (uint64_t)m.queue_offset + m.body.n;
      }
      if (rc < 0 || n != PULL_RECORDS) die("record walk", rc < 0 ? rc : TERN_ECORRUPT);
      sink += (uint64_t)h.next_begin_offset;
    }
    double ns = (now_ns() - t0) / (double)iters;
    if (round == 0 || ns < decn) decn = ns;
  }

  double mc = bench_memcpy(out.p, out.len, iters);
  printf("pull_32: frame %zu bytes (%d records of %d-byte bodies)\n", out.len, PULL_RECORDS, PULL_BODY);
  report("pull_32 json encode", enc, out.len, mc);
  report("pull_32 json decode", decn, out.len, mc);
  tern_buf_free(&out);
  tern_arena_free(&scratch);
  free(records);
}

int main(int argc, char **argv) {
  long iters = argc > 1 ? atol(argv[1]) : 40000;
  if (iters <= 0) iters = 1;
  for (size_t i = 0; i < sizeof body_1k; i++) body_1k[i] = (uint8_t)(i * 31 + 7);
  bench_send(TERN_SER_JSON, iters);
  bench_send(TERN_SER_ROCKETMQ, iters);
  bench_pull_32(iters / 8 > 0 ? iters / 8 : 1);
  return (int)(sink & 0); /* sink read so the work stays */
}
