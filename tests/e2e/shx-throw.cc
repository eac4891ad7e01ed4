// shx-throw.cc -- C++ exceptions under the preload with SHMEMX_BACKTRACE=1.
//
// Objects are made in functions a few calls deep, exceptions are thrown
// through frames that made objects and caught further up, rethrown,
// nested, and thrown from a destructor's cleanup path; every result is
// checked.  The library loads libunwind for the backtraces: if its
// unwinder took the place of the compiler's, or one of its symbols came
// into the program's scope, this would break.  Prints "ok N" (N exceptions
// caught) and exits 0, or says what went wrong.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {

struct failure : std::runtime_error {
	int depth;
	failure(const std::string &what, int d) : std::runtime_error(what), depth(d) {}
};

struct object {
	int fd;
	explicit object(const char *name)
	{
		fd = shm_open(name, O_CREAT | O_RDWR, 0600);
		if (fd < 0)
			throw std::runtime_error(std::string("shm_open: ") + strerror(errno));
		if (ftruncate(fd, 4096) < 0)
			throw std::runtime_error("ftruncate");
	}
	~object() { close(fd); }
};

// the creating function the backtrace must name
__attribute__((noinline)) int make_leaked_segment(const char *name)
{
	int fd = shm_open(name, O_CREAT | O_RDWR, 0600);

	if (fd < 0 || ftruncate(fd, 8192) < 0)
		return -1;
	return fd;
}

__attribute__((noinline)) void deep(int n, const char *name)
{
	object o(name);

	if (n == 0)
		throw failure("bottom", 0);
	deep(n - 1, name);
}

__attribute__((noinline)) int rethrow_through(const char *name)
{
	try {
		deep(5, name);
	} catch (failure &f) {
		throw failure(std::string("again: ") + f.what(), f.depth + 1);
	}
	return 0;
}

} // namespace

int main()
{
	int caught = 0;

	for (int i = 0; i < 50; i++) {
		char name[64];

		snprintf(name, sizeof(name), "/shx-throw-%d", i % 5);
		try {
			rethrow_through(name);
			fprintf(stderr, "no exception\n");
			return 1;
		} catch (failure &f) {
			if (f.depth != 1 || std::string(f.what()) != "again: bottom") {
				fprintf(stderr, "wrong exception: %s %d\n", f.what(), f.depth);
				return 1;
			}
			caught++;
		}
		shm_unlink(name);
	}
	try {
		std::vector<int> v(3);
		(void)v.at(10);
	} catch (std::out_of_range &) {
		caught++;
	}
	try {
		try {
			throw 42;
		} catch (int x) {
			if (x != 42)
				return 1;
			throw;
		}
	} catch (int) {
		caught++;
	}
	// libunwind's names must not be the program's
	if (dlsym(RTLD_DEFAULT, "_ULx86_64_step") || dlsym(RTLD_DEFAULT, "unw_backtrace")) {
		fprintf(stderr, "libunwind's symbols are in the program's scope\n");
		return 1;
	}
	if (make_leaked_segment("/shx-throw-leak") < 0) {
		fprintf(stderr, "make_leaked_segment: %s\n", strerror(errno));
		return 1;
	}
	printf("ok %d\n", caught);
	return 0;
}
