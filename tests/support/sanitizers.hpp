// Whether this test is built with AddressSanitizer (LATENT_TEST_ASAN) or
// ThreadSanitizer (LATENT_TEST_TSAN): g++ defines __SANITIZE_*__, clang answers
// __has_feature.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define LATENT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LATENT_TEST_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define LATENT_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LATENT_TEST_TSAN 1
#endif
#endif
