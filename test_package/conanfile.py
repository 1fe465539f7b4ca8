"""Conan test_package: builds test_package/CMakeLists.txt (the consumer ctest also builds,
in tests/package) against the created package and runs one program per component the
package was created with."""
import os

from conan import ConanFile
from conan.tools.build import can_run
from conan.tools.cmake import CMake, CMakeToolchain, cmake_layout


class TrustgateTestPackageConan(ConanFile):
    settings = "os", "arch", "compiler", "build_type"
    generators = "CMakeDeps", "VirtualRunEnv"
    test_type = "explicit"

    def requirements(self):
        self.requires(self.tested_reference_str)

    def layout(self):
        cmake_layout(self)

    def _components(self):
        options = self.dependencies["trustgate"].options
        return [component for component in ("beast", "testing", "config", "assertion", "redis", "runtime") if options.get_safe(component)]

    def generate(self):
        toolchain = CMakeToolchain(self)
        toolchain.cache_variables["TRUSTGATE_COMPONENTS"] = ";".join(self._components())
        toolchain.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def test(self):
        if can_run(self):
            for program in ["core", *self._components()]:
                self.run(os.path.join(self.cpp.build.bindirs[0], f"consume_{program}"), env="conanrun")
