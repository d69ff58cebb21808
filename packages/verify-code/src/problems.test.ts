import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@acereason/protocol';
import { CodeVerifier } from './pool.js';
import type { CodeLanguage, CodeTests } from './verdict.js';

interface Problem {
  name: string;
  language?: CodeLanguage;
  tests: CodeTests;
  right: string;
  wrong: string;
}

const PROBLEMS: Problem[] = [
  {
    name: 'a+b',
    tests: { inputs: ['1 2\n', '-5 5\n', '1000000000000 1\n'], outputs: ['3\n', '0\n', '1000000000001\n'] },
    right: 'a, b = map(int, input().split())\nprint(a + b)\n',
    wrong: 'a, b = map(int, input().split())\nprint(a - b)\n',
  },
  {
    name: 'reverse each line',
    tests: { inputs: ['2\nabc\nxy\n', '1\nZ\n'], outputs: ['cba\nyx\n', 'Z\n'] },
    right: 'import sys\nn = int(sys.stdin.readline())\nfor _ in range(n):\n    print(sys.stdin.readline().strip()[::-1])\n',
    wrong: 'import sys\nn = int(sys.stdin.readline())\nfor _ in range(n):\n    print(sys.stdin.readline().strip().upper()[::-1])\n',
  },
  {
    name: 'sort numbers',
    tests: { inputs: ['5\n3 1 2 5 4\n', '3\n10 -1 9\n'], outputs: ['1 2 3 4 5\n', '-1 9 10\n'] },
    right: 'input()\nprint(*sorted(map(int, input().split())))\n',
    wrong: 'input()\nprint(*sorted(input().split()))\n',
  },
  {
    name: 'average (float tolerance)',
    tests: { inputs: ['3\n1 2 2\n', '2\n1 2\n'], outputs: ['1.666666667\n', '1.5\n'] },
    right: 'n = int(input())\nprint(sum(map(int, input().split())) / n)\n',
    wrong: 'n = int(input())\nprint(round(sum(map(int, input().split())) / n, 2))\n',
  },
  {
    name: 'palindrome YES/NO (case matters)',
    tests: { inputs: ['abba\n', 'abc\n'], outputs: ['YES\n', 'NO\n'] },
    right: 's = input().strip()\nprint("YES" if s == s[::-1] else "NO")\n',
    wrong: 's = input().strip()\nprint("yes" if s == s[::-1] else "no")\n',
  },
  {
    name: 'fibonacci mod (threads pattern)',
    tests: { inputs: ['10\n', '90\n', '1\n'], outputs: ['55\n', '2880067194370816120\n', '1\n'] },
    right:
      'import sys, threading\ndef main():\n    n = int(sys.stdin.readline())\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    print(a)\nthreading.stack_size(1 << 24)\nthreading.Thread(target=main).start()\n',
    wrong: 'n = int(input())\na, b = 0, 1\nfor _ in range(n - 1):\n    a, b = b, a + b\nprint(a)\n',
  },
  {
    name: 'two sum (class Solution)',
    tests: { inputs: ['[2,7,11,15]\n9', '[3,2,4]\n6'], outputs: [[0, 1], [1, 2]], fnName: 'twoSum' },
    right:
      'from typing import List\nclass Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n        seen = {}\n        for i, x in enumerate(nums):\n            if target - x in seen:\n                return [seen[target - x], i]\n            seen[x] = i\n        return []\n',
    wrong: 'class Solution:\n    def twoSum(self, nums, target):\n        return [0, 1]\n',
  },
  {
    name: 'max subarray (top-level function)',
    tests: { inputs: [[[-2, 1, -3, 4, -1, 2, 1, -5, 4]], [[1]], [[-3, -1]]], outputs: [6, 1, -1], fnName: 'max_sub' },
    right: 'def max_sub(a):\n    best = cur = a[0]\n    for x in a[1:]:\n        cur = max(x, cur + x)\n        best = max(best, cur)\n    return best\n',
    wrong: 'def max_sub(a):\n    return max(a)\n',
  },
  {
    name: 'is anagram (bool return)',
    tests: { inputs: ['"anagram"\n"nagaram"', '"rat"\n"car"'], outputs: [true, false], fnName: 'isAnagram' },
    right: 'class Solution:\n    def isAnagram(self, s, t):\n        return sorted(s) == sorted(t)\n',
    wrong: 'class Solution:\n    def isAnagram(self, s, t):\n        return len(s) == len(t)\n',
  },
  {
    name: 'reverse words (string return)',
    tests: { inputs: [['the sky is blue'], ['  hello world  ']], outputs: ['blue is sky the', 'world hello'], fnName: 'reverseWords' },
    right: 'class Solution:\n    def reverseWords(self, s: str) -> str:\n        return " ".join(reversed(s.split()))\n',
    wrong: 'class Solution:\n    def reverseWords(self, s: str) -> str:\n        return " ".join(reversed(s.split(" ")))\n',
  },
  {
    name: 'digits as a string (a string holding JSON stays a string)',
    tests: { inputs: [[12], [7]], outputs: ['12', '7'], fnName: 'as_text' },
    right: 'def as_text(n):\n    return str(n)\n',
    wrong: 'def as_text(n):\n    return n\n',
  },
  {
    name: 'c++ sum of array',
    language: 'cpp',
    tests: { inputs: ['3\n1 2 3\n', '2\n1000000000 1000000000\n'], outputs: ['6\n', '2000000000\n'] },
    right: '#include <bits/stdc++.h>\nint main(){int n; std::cin>>n; long long s=0; for(int i=0;i<n;i++){long long x; std::cin>>x; s+=x;} std::cout<<s<<"\\n";}\n',
    wrong: '#include <bits/stdc++.h>\nint main(){int n; std::cin>>n; long long s=0; for(int i=0;i<n-1;i++){long long x; std::cin>>x; s+=x;} std::cout<<s<<"\\n";}\n',
  },
  {
    name: 'c++ count distinct',
    language: 'cpp',
    tests: { inputs: ['5\n1 2 2 3 3\n', '1\n7\n'], outputs: ['3\n', '1\n'] },
    right: '#include <bits/stdc++.h>\nusing namespace std;\nint main(){int n; cin>>n; set<int> s; while(n--){int x; cin>>x; s.insert(x);} cout<<s.size()<<endl;}\n',
    wrong: '#include <bits/stdc++.h>\nusing namespace std;\nint main(){int n; cin>>n; cout<<n<<endl;}\n',
  },
];

describe('problems: right solutions pass, wrong ones fail', () => {
  const verifier = new CodeVerifier({ concurrency: 2, sandbox: 'bwrap', hostUidBase: 62200 });
  after(() => verifier.close());

  it('judges a dozen stdin and function-call problems', async () => {
    const results = await Promise.all(
      PROBLEMS.flatMap((p) =>
        (['right', 'wrong'] as const).map(async (which) => ({
          p,
          which,
          v: await verifier.verify({ code: p[which], language: p.language ?? 'python', tests: p.tests, timeLimitS: 2 }),
        })),
      ),
    );
    for (const { p, which, v } of results) {
      if (which === 'right') {
        assert.equal(v.status, 'accepted', `${p.name}: ${v.reason}`);
        assert.equal(v.testsPassed, p.tests.inputs.length);
        assert.equal(v.timingsMs?.length, p.tests.inputs.length);
      } else {
        assert.equal(v.status, 'wrong_answer', `${p.name} (wrong): ${v.status} ${v.reason}`);
        assert.equal(v.passed, false);
        assert.equal(typeof v.firstFailedTest, 'number');
      }
    }
  });

  it('runs every test with runAll and reports the first failure', async () => {
    const v = await verifier.verify({
      code: 'x = int(input())\nprint(x if x % 2 else -1)\n',
      tests: { inputs: ['1', '2', '3', '4'], outputs: ['1', '2', '3', '4'] },
      runAll: true,
    });
    assert.equal(v.status, 'wrong_answer');
    assert.equal(v.testsPassed, 2);
    assert.equal(v.firstFailedTest, 1);
    assert.equal(v.timingsMs?.length, 4);
  });

  it('extracts the program from a response, and reports no_code and compile errors', async () => {
    const ok = await verifier.verify({ response: '<think>```python\nprint(0)\n```</think>\n```python\nprint(input()[::-1])\n```', tests: { inputs: ['ab'], outputs: ['ba'] } });
    assert.equal(ok.status, 'accepted');
    const none = await verifier.verify({ response: '<think>long thoughts', tests: { inputs: ['ab'], outputs: ['ba'] } });
    assert.deepEqual([none.status, none.testsTotal], ['no_code', 1]);
    const py = await verifier.verify({ code: 'def f(:\n', tests: { inputs: ['1'], outputs: ['1'] } });
    assert.equal(py.status, 'compile_error');
    const cc = await verifier.verify({ code: 'int main() { return x; }', language: 'cpp', tests: { inputs: ['1'], outputs: ['1'] } });
    assert.equal(cc.status, 'compile_error');
    assert.match(cc.reason, /x/);
  });

  it('distinguishes runtime errors from wrong answers', async () => {
    const v = await verifier.verify({ code: 'raise ValueError("boom")', tests: { inputs: ['1'], outputs: ['1'] } });
    assert.equal(v.status, 'runtime_error');
    assert.match(v.reason, /ValueError: boom/);
    const missing = await verifier.verify({ code: 'def g(): return 1', tests: { inputs: [[]], outputs: [1], fnName: 'f' } });
    assert.equal(missing.status, 'runtime_error');
    await assert.rejects(verifier.verify({ code: 'print(1)', tests: { inputs: ['1'], outputs: ['1'] }, timeLimitS: 0 }), ValidationError);
  });
});
