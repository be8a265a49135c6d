/* scratch.c - see scratch.h. */
#include <pthread.h>
#include <stdlib.h>

#include "scratch.h"

/* Each thread's scratch buffers form a list; a thread-specific key with a
 * destructor frees them when the thread exits (glibc runs key destructors
 * before it releases the thread's _Thread_local storage). The key is created
 * once and never changes: the only process-wide state here. */
static pthread_key_t thread_buffers;
static pthread_once_t thread_buffers_once = PTHREAD_ONCE_INIT;
static int thread_buffers_ok;

static void free_thread_buffers(void *head) {
    for (scratch_t *s = head, *next; s; s = next) {
        next = s->next;
        free(s->p);
        s->p = NULL, s->cap = 0, s->next = NULL, s->owned = 0;
    }
}

static void make_key(void) { thread_buffers_ok = pthread_key_create(&thread_buffers, free_thread_buffers) == 0; }

/* Puts `s` on the calling thread's list (once). Without a key the buffer is
 * freed at process exit, as before. */
static void own(scratch_t *s) {
    pthread_once(&thread_buffers_once, make_key);
    if (!thread_buffers_ok) return;
    s->next = pthread_getspecific(thread_buffers);
    if (pthread_setspecific(thread_buffers, s) == 0) s->owned = 1;
    else s->next = NULL;
}

float *scratch_reserve(scratch_t *s, size_t floats) {
    if (floats <= s->cap) return s->p;
    const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes);
    if (!p) return NULL;
    free(s->p);
    s->p = p;
    s->cap = bytes / sizeof(float);
    if (!s->owned) own(s);
    return p;
}
