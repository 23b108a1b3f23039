/* Tests of gen/codes.{h,c}: the code tables servers dispatch on and name in logs. */
#include "gen/codes.h"
#include "tern_test.h"

TEST(request_code_numbers_match_the_protocol) {
  ASSERT_EQ(TERN_REQ_SEND_MESSAGE, 10);
  ASSERT_EQ(TERN_REQ_PULL_MESSAGE, 11);
  ASSERT_EQ(TERN_REQ_HEART_BEAT, 34);
  ASSERT_EQ(TERN_REQ_GET_ROUTEINFO_BY_TOPIC, 105);
  ASSERT_EQ(TERN_REQ_SEND_MESSAGE_V2, 310);
  ASSERT_EQ(TERN_REQ_LITE_PULL_MESSAGE, 361);
  ASSERT_EQ(TERN_REQ_BROKER_HEARTBEAT, 904);
  ASSERT_EQ(TERN_REQ_POP_MESSAGE, 200050);
  ASSERT_EQ(TERN_REQ_BATCH_ACK_MESSAGE, 200151);
}

TEST(request_code_names_and_unknown_numbers) {
  ASSERT_STREQ(tern_request_code_name(105), "GET_ROUTEINFO_BY_TOPIC");
  ASSERT_STREQ(tern_request_code_name(10), "SEND_MESSAGE");
  ASSERT_STREQ(tern_request_code_name(200151), "BATCH_ACK_MESSAGE");
  /* Unused numbers (16, 19, 218) and out-of-table numbers have no name. */
  ASSERT(tern_request_code_name(16) == NULL);
  ASSERT(tern_request_code_name(218) == NULL);
  ASSERT(tern_request_code_name(0) == NULL);
  ASSERT(tern_request_code_name(-1) == NULL);
  ASSERT(tern_request_code_name(9999) == NULL);
  ASSERT(tern_request_code_name(1 << 30) == NULL);
}

TEST(request_code_info_roles_versions_oneway) {
  const tern_request_code_info_t *i = tern_request_code_info(TERN_REQ_REGISTER_BROKER);
  ASSERT(i != NULL);
  ASSERT_EQ(i->roles, TERN_ROLE_NAMESRV);
  ASSERT_EQ(i->versions, TERN_V49 | TERN_V5X);
  i = tern_request_code_info(TERN_REQ_CHECK_TRANSACTION_STATE);
  ASSERT(i != NULL);
  ASSERT_EQ(i->roles, TERN_ROLE_CLIENT);
  ASSERT_EQ(i->oneway, TERN_ONEWAY_USUALLY);
  i = tern_request_code_info(TERN_REQ_UPDATE_AND_CREATE_ACL_CONFIG); /* 4.9 only */
  ASSERT(i != NULL);
  ASSERT_EQ(i->versions, TERN_V49);
  i = tern_request_code_info(TERN_REQ_QUERY_BROKER_OFFSET); /* declared, no handler */
  ASSERT(i != NULL);
  ASSERT_EQ(i->roles, 0);
  ASSERT_EQ(tern_request_code_info(TERN_REQ_SEND_MESSAGE_V2)->tern, 1);
}

TEST(every_request_code_is_found_by_its_number) {
  int n = 0;
#define CHECK(nm, code, ...)                                     \
  do {                                                           \
    const tern_request_code_info_t *i = tern_request_code_info(code); \
    ASSERT(i != NULL);                                           \
    ASSERT_STREQ(i->name, #nm);                                  \
    n++;                                                         \
  } while (0);
  TERN_REQUEST_CODES(CHECK)
#undef CHECK
  ASSERT_EQ(n, TERN_REQUEST_CODE_COUNT);
}

TEST(response_codes_including_reused_numbers) {
  ASSERT_EQ(TERN_RESP_SUCCESS, 0);
  ASSERT_EQ(TERN_RESP_PULL_NOT_FOUND, 19);
  ASSERT_EQ(TERN_RESP_RPC_TIME_OUT, -1006);
  ASSERT_STREQ(tern_response_code_name(0), "SUCCESS");
  ASSERT_STREQ(tern_response_code_name(3), "REQUEST_CODE_NOT_SUPPORTED");
  ASSERT_STREQ(tern_response_code_name(-1000), "RPC_UNKNOWN");
  /* 209-211 changed meaning in 5.x: both names exist, the number is named as 5.x means it. */
  ASSERT_EQ(TERN_RESP_POLLING_FULL, 209);
  ASSERT_EQ(TERN_RESP_UPDATE_AND_CREATE_ACL_CONFIG_FAILED, 209);
  ASSERT_STREQ(tern_response_code_name(209), "POLLING_FULL");
  ASSERT_STREQ(tern_response_code_name(210), "POLLING_TIMEOUT");
  ASSERT_STREQ(tern_response_code_name(211), "BROKER_NOT_EXIST");
  ASSERT(tern_response_code_name(214) == NULL);
  ASSERT(tern_response_code_name(-1) == NULL);
}

TEST(language_names_both_ways) {
  ASSERT_STREQ(tern_language_name(0), "JAVA");
  ASSERT_STREQ(tern_language_name(TERN_LANG_CPP), "CPP");
  ASSERT_STREQ(tern_language_name(13), "NODE_JS");
  ASSERT(tern_language_name(14) == NULL);
  ASSERT(tern_language_name(-1) == NULL);
  ASSERT_EQ(tern_language_from_name(TERN_STR("JAVA")), TERN_LANG_JAVA);
  ASSERT_EQ(tern_language_from_name(TERN_STR("GO")), 9);
  ASSERT_EQ(tern_language_from_name(TERN_STR("RUST")), 12);
  ASSERT_EQ(tern_language_from_name(TERN_STR("NODE_JS")), 13);
  /* Unknown, wrong case, prefixes and empty names are accepted as unknown (-1). */
  ASSERT_EQ(tern_language_from_name(TERN_STR("java")), -1);
  ASSERT_EQ(tern_language_from_name(TERN_STR("JAV")), -1);
  ASSERT_EQ(tern_language_from_name(TERN_STR("JAVASCRIPT")), -1);
  ASSERT_EQ(tern_language_from_name(TERN_STR_NULL), -1);
  for (int b = 0; b < TERN_LANGUAGE_CODE_COUNT; b++)
    ASSERT_EQ(tern_language_from_name(tern_str_from_cstr(tern_language_name(b))), b);
}
