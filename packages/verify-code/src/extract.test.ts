import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extractProgram } from './extract.js';

describe('extractProgram', () => {
  it('takes the last python block after </think>', () => {
    const r = '<think>```python\nprint(0)\n```</think>\nFirst:\n```python\nprint(1)\n```\nBetter:\n```python\nprint(2)\n```\n';
    assert.deepEqual(extractProgram(r), { language: 'python', code: 'print(2)\n' });
  });
  it('ignores blocks inside the reasoning', () => {
    assert.equal(extractProgram('<think>```python\nprint(0)\n```</think> no code here'), null);
  });
  it('returns null for a truncated reasoning and for no block', () => {
    assert.equal(extractProgram('<think>```python\nprint(0)\n```'), null);
    assert.equal(extractProgram('just words'), null);
    assert.equal(extractProgram('```python\n   \n```'), null);
  });
  it('accepts cpp blocks and a response without think tags', () => {
    assert.deepEqual(extractProgram('```cpp\nint main(){}\n```'), { language: 'cpp', code: 'int main(){}\n' });
    assert.deepEqual(extractProgram('```c++\nint main(){}\n```\n```py\nx=1\n```'), { language: 'python', code: 'x=1\n' });
  });
  it('does not take other languages', () => {
    assert.equal(extractProgram('</think>```java\nclass A{}\n```'), null);
  });
});
