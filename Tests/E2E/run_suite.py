"""Discovers and runs the E2E tests; ends with the line 'N passed, N failed'."""
import sys
import unittest

loader = unittest.TestLoader()
suite = loader.loadTestsFromNames(sys.argv[1:]) if len(sys.argv) > 1 else loader.discover(".", pattern="test_*.py")
result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
failed = len(result.failures) + len(result.errors)
passed = result.testsRun - failed - len(result.skipped)
print(f"e2e: {passed} passed, {failed} failed" + (f", {len(result.skipped)} skipped" if result.skipped else ""))
sys.exit(0 if failed == 0 and result.testsRun > 0 else 1)
