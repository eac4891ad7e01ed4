/* backtrace.c -- the stack that creates an object (SHMEMX_BACKTRACE=1),
 * for `shmemctl ls --backtrace`.
 *
 * libunwind walks and names the frames, static functions included (it
 * reads the symbol tables of the files).  It is loaded with dlopen,
 * RTLD_LOCAL, when the variable asks for it: the library links nothing
 * but libc, and none of libunwind's symbols -- its _Unwind_* among them
 * -- join the program's global scope, so C++ exceptions keep going
 * through the compiler's own unwinder.  Without libunwind (a musl build,
 * or none installed) there are no backtraces, and the library says so
 * once.
 *
 * A frame is "name+0xOFF (file)"; the library's own frames are left out,
 * so the first is the caller of open, shm_open, mkstemp...
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "preload.h"

#if defined(__GLIBC__) && defined(__has_include)
#if __has_include(<libunwind.h>)
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#define HAVE_LIBUNWIND 1
#endif
#endif

#define MAX_FRAMES 16

#ifdef HAVE_LIBUNWIND
/* The architecture's names of the calls (libunwind's macros say them). */
#define NAME_(x) #x
#define NAME(x)	 NAME_(x)

static struct {
	int (*getcontext)(unw_context_t *);
	int (*init_local)(unw_cursor_t *, unw_context_t *);
	int (*step)(unw_cursor_t *);
	int (*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
	int (*get_proc_name)(unw_cursor_t *, char *, size_t, unw_word_t *);
} unw;
#endif

static int enabled;

void shx_backtrace_init(void)
{
	const char *v = getenv("SHMEMX_BACKTRACE");

	if (!v || strcmp(v, "1"))
		return;
#ifdef HAVE_LIBUNWIND
	{
		void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);

		if (h) {
			/* (POSIX's way to take a function pointer from dlsym) */
			*(void **)&unw.getcontext = dlsym(h, NAME(unw_tdep_getcontext));
			*(void **)&unw.init_local = dlsym(h, NAME(unw_init_local));
			*(void **)&unw.step = dlsym(h, NAME(unw_step));
			*(void **)&unw.get_reg = dlsym(h, NAME(unw_get_reg));
			*(void **)&unw.get_proc_name = dlsym(h, NAME(unw_get_proc_name));
			enabled = unw.getcontext && unw.init_local && unw.step && unw.get_reg &&
				  unw.get_proc_name;
		}
	}
#endif
	if (!enabled)
		shx_log("SHMEMX_BACKTRACE=1, but libunwind cannot be loaded: no backtraces");
}

int shx_backtrace_enabled(void)
{
	return enabled;
}

#ifdef HAVE_LIBUNWIND
/* C++ names as the program's source says them, when the program has
 * libstdc++'s demangler (a C program's names need none). */
static const char *demangle(const char *name, char *buf, size_t cap)
{
	static char *(*cxa_demangle)(const char *, char *, size_t *, int *);
	static int looked;
	char *d;
	int st;

	if (strncmp(name, "_Z", 2))
		return name;
	if (!looked) {
		*(void **)&cxa_demangle = dlsym(RTLD_DEFAULT, "__cxa_demangle");
		looked = 1;
	}
	if (!cxa_demangle || !(d = cxa_demangle(name, NULL, NULL, &st)) || st)
		return name;
	snprintf(buf, cap, "%s", d);
	free(d);
	return buf;
}

/* Is addr in this library? */
static int ours(unw_word_t addr)
{
	static Dl_info self;
	Dl_info info;

	if (!self.dli_fbase && !dladdr((void *)shx_backtrace, &self))
		return 0;
	return dladdr((void *)addr, &info) && info.dli_fbase == self.dli_fbase;
}
#endif

size_t shx_backtrace(char *buf, size_t cap)
{
	size_t o = 0;

	if (cap)
		buf[0] = 0;
#ifdef HAVE_LIBUNWIND
	if (enabled && cap) {
		unw_context_t uc;
		unw_cursor_t cur;
		int frames = 0;

		if (unw.getcontext(&uc) < 0 || unw.init_local(&cur, &uc) < 0)
			return 0;
		while (frames < MAX_FRAMES && unw.step(&cur) > 0) {
			char name[256], nice[256];
			unw_word_t ip, off = 0;
			Dl_info info;
			int n;

			if (unw.get_reg(&cur, UNW_REG_IP, &ip) < 0 || ip == 0)
				break;
			if (ours(ip))
				continue;
			if (unw.get_proc_name(&cur, name, sizeof(name), &off) < 0)
				snprintf(name, sizeof(name), "0x%lx", (unsigned long)ip);
			if (!dladdr((void *)ip, &info) || !info.dli_fname)
				info.dli_fname = "?";
			n = snprintf(buf + o, cap - o, "%s+0x%lx (%s)\n",
				     demangle(name, nice, sizeof(nice)), (unsigned long)off,
				     info.dli_fname[0] ? info.dli_fname : "the program");
			if (n < 0 || (size_t)n >= cap - o)
				break;
			o += n;
			frames++;
		}
		if (o && buf[o - 1] == '\n')
			buf[--o] = 0;
	}
#endif
	return o;
}
