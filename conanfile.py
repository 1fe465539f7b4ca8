"""Conan 2 recipe for trustgate, a header-only C++20 library.

    conan create . -o "trustgate/*:beast=True" -o "trustgate/*:testing=True" -o "trustgate/*:config=True" \
                   -o "trustgate/*:assertion=True" -o "trustgate/*:redis=True" \
                   -o "trustgate/*:runtime=True"

The package is what `cmake --install` produces (tests/package builds consumers against
that same install in CI); CMakeDeps and PkgConfigDeps then describe it from package_info(),
whose components mirror the CMake package's targets.
"""
import os
import re

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeToolchain, cmake_layout
from conan.tools.files import copy, load, rmdir

required_conan_version = ">=2.0"


def project_version(cmakelists_text):
    """The version in CMakeLists.txt's project() call: the one place it lives."""
    match = re.search(r"project\(\s*trustgate\s+VERSION\s+([0-9]+\.[0-9]+\.[0-9]+)", cmakelists_text)
    if not match:
        raise ValueError("CMakeLists.txt: no 'project(trustgate VERSION x.y.z' found")
    return match.group(1)


class TrustgateConan(ConanFile):
    name = "trustgate"
    description = "Header-only C++20 trust decisions for gateways behind identity-aware proxies"
    license = "BSL-1.0"
    topics = ("gateway", "reverse-proxy", "authentication", "authorization", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {
        "beast": [True, False],    # trustgate::beast, the Boost.Beast adapter and server (with TLS)
        "testing": [True, False],  # trustgate::testing, RapidCheck generators and the reference model
        "config": [True, False],   # trustgate::config, JSON5 configuration text read into nlohmann::json
        "assertion": [True, False],  # trustgate::assertion, signed proxy assertions (OpenSSL, nlohmann_json)
        "redis": [True, False],    # trustgate::redis, the failed-attempt limit shared through Redis (hiredis)
        "runtime": [True, False],  # trustgate::runtime, configuration, secrets, reload, audit (Boost, OpenSSL, nlohmann_json)
    }
    default_options = {"beast": False, "testing": False, "config": False, "assertion": False, "redis": False,
                       "runtime": False}
    exports_sources = "CMakeLists.txt", "LICENSE", "cmake/*", "docs/*", "include/*", "models/*"
    no_copy_source = True

    def set_version(self):
        self.version = project_version(load(self, os.path.join(self.recipe_folder, "CMakeLists.txt")))

    def configure(self):
        if self.options.beast or self.options.runtime:
            self.options["boost"].header_only = True

    def layout(self):
        cmake_layout(self)

    def requirements(self):
        if self.options.beast or self.options.runtime:
            # Beast, Asio and Boost.System are header-only: no Boost binaries (see configure()).
            self.requires("boost/[>=1.74 <2]", transitive_headers=True)
        if self.options.beast or self.options.assertion or self.options.runtime:
            # One requirement for all: assertion (and the runtime, which verifies assertions)
            # builds keys with OpenSSL 3's EVP_PKEY_fromdata.
            version = "[>=3 <4]" if self.options.assertion or self.options.runtime else "[>=1.1 <4]"
            self.requires(f"openssl/{version}", transitive_headers=True, transitive_libs=True)
        if self.options.testing:
            self.requires("rapidcheck/cci.20231215", transitive_headers=True, transitive_libs=True)
        if self.options.config or self.options.assertion or self.options.runtime:
            self.requires("nlohmann_json/[>=3.10 <4]", transitive_headers=True)
        if self.options.redis:
            self.requires("hiredis/[>=1.0 <2]", transitive_headers=True, transitive_libs=True)

    def package_id(self):
        # Headers only: one package serves every compiler, build type and option set.
        self.info.clear()

    def validate(self):
        # A profile that names a standard must name C++20 or newer; one that names none
        # (Conan's default profiles leave gcc at gnu17) is fine when the compiler can do
        # C++20, because the consumer's own build selects the standard (README).
        if self.settings.get_safe("compiler.cppstd"):
            check_min_cppstd(self, 20)
            return
        minimum = {"gcc": 10, "clang": 12, "apple-clang": 13, "msvc": 192}.get(str(self.settings.get_safe("compiler")))
        version = str(self.settings.get_safe("compiler.version") or "0").split(".")[0]
        if minimum is not None and int(version) < minimum:
            raise ConanInvalidConfiguration(f"trustgate needs C++20: {self.settings.compiler} {minimum} or newer")

    def generate(self):
        # The same configuration as ports/trustgate and tests/package: only the library.
        toolchain = CMakeToolchain(self)
        for option in ("TRUSTGATE_BUILD_TESTS", "TRUSTGATE_BUILD_EXAMPLES", "TRUSTGATE_BUILD_BENCHMARKS"):
            toolchain.cache_variables[option] = "OFF"
        toolchain.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()  # generates trustgate/version.hpp
        cmake.build()

    def package(self):
        CMake(self).install()
        # Every header is installed whatever the options (a header-library package is one
        # binary for all of them); CMakeDeps and PkgConfigDeps write the package files
        # from package_info() instead of these. share/doc/trustgate keeps behaviour.md,
        # the contract the headers cite.
        rmdir(self, os.path.join(self.package_folder, "share", "trustgate"))
        rmdir(self, os.path.join(self.package_folder, "share", "pkgconfig"))
        copy(self, "LICENSE", src=self.source_folder, dst=os.path.join(self.package_folder, "licenses"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "trustgate")
        # CMakeDeps links a package-wide target to every component; it must not be
        # trustgate::trustgate, which is the core alone.
        self.cpp_info.set_property("cmake_target_name", "trustgate::all")
        self.cpp_info.set_property("pkg_config_name", "trustgate-all")

        core = self.cpp_info.components["core"]
        core.set_property("cmake_target_name", "trustgate::trustgate")
        core.set_property("pkg_config_name", "trustgate")

        if self.options.beast:
            beast = self.cpp_info.components["beast"]
            beast.set_property("cmake_target_name", "trustgate::beast")
            beast.requires = ["core", "boost::headers", "openssl::ssl"]
            if self.settings.os in ("Linux", "FreeBSD"):
                beast.system_libs = ["pthread"]  # Threads::Threads in the CMake package

        if self.options.testing:
            testing = self.cpp_info.components["testing"]
            testing.set_property("cmake_target_name", "trustgate::testing")
            testing.requires = ["core", "rapidcheck::rapidcheck_rapidcheck"]

        if self.options.config:
            config = self.cpp_info.components["config"]
            config.set_property("cmake_target_name", "trustgate::config")
            config.requires = ["core", "nlohmann_json::nlohmann_json"]
        if self.options.assertion:
            assertion = self.cpp_info.components["assertion"]
            assertion.set_property("cmake_target_name", "trustgate::assertion")
            assertion.requires = ["core", "openssl::crypto", "nlohmann_json::nlohmann_json"]
            if self.settings.os in ("Linux", "FreeBSD"):
                assertion.system_libs = ["pthread"]
        if self.options.redis:
            redis = self.cpp_info.components["redis"]
            redis.set_property("cmake_target_name", "trustgate::redis")
            redis.requires = ["core", "hiredis::hiredis"]
            if self.settings.os in ("Linux", "FreeBSD"):
                redis.system_libs = ["pthread"]  # Threads::Threads in the CMake package
        if self.options.runtime:
            runtime = self.cpp_info.components["runtime"]
            runtime.set_property("cmake_target_name", "trustgate::runtime")
            runtime.requires = ["core", "boost::headers", "openssl::ssl", "openssl::crypto", "nlohmann_json::nlohmann_json"]
            if self.settings.os in ("Linux", "FreeBSD"):
                runtime.system_libs = ["pthread"]

        for component in self.cpp_info.components.values():
            component.bindirs = []  # headers only
            component.libdirs = []
