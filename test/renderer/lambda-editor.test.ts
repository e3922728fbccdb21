import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import LambdaEditor from '../../src-renderer/src/components/LambdaEditor.svelte';

const inputs = () => screen.getAllByRole('spinbutton', { name: /^λ exit \d+$/ }) as HTMLInputElement[];
const values = () => inputs().map((i) => Number(i.value));

describe('λ schedule editor', () => {
  afterEach(cleanup);

  it('applies presets to every exit, and editing one value makes the schedule custom', async () => {
    render(LambdaEditor, { props: { lambda: [0.1, 0.1, 0.1, 0.1], preset: 'uniform', warmupEpochs: 0, epochs: 10 } });
    expect(values()).toEqual([0.1, 0.1, 0.1, 0.1]);

    await fireEvent.click(screen.getByRole('button', { name: 'Linear ramp' }));
    expect(values()).toEqual([0.05, 0.1, 0.15, 0.2]);
    await fireEvent.click(screen.getByRole('button', { name: 'Paper · CIFAR-100' }));
    // The paper's shape: the shallow 3/7 of the exits light, the deep ones heavier.
    expect(values()).toEqual([0.1, 0.1, 0.15, 0.15]);
    await fireEvent.click(screen.getByRole('button', { name: 'Off' }));
    expect(values()).toEqual([0, 0, 0, 0]);
    expect(screen.queryByText('custom')).toBeNull();

    await fireEvent.input(inputs()[2], { target: { value: '0.3' } });
    expect(values()).toEqual([0, 0, 0.3, 0]);
    expect(screen.getByText('custom')).toBeTruthy();
    // The bar chart follows the table.
    expect(screen.getByRole('slider', { name: 'λ of exit 3' }).getAttribute('aria-valuenow')).toBe('0.3');
  });

  it("Paper · CIFAR-10 is our 5-exit choice, said so; Paper · CIFAR-100 the paper's 7-exit λ", async () => {
    render(LambdaEditor, { props: { lambda: [0, 0, 0, 0, 0], preset: 'off', warmupEpochs: 0, epochs: 10 } });
    await fireEvent.click(screen.getByRole('button', { name: 'Paper · CIFAR-10' }));
    expect(values()).toEqual([0.1, 0.1, 0.15, 0.15, 0.15]);
    expect(screen.getByText(/^Our choice/)).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Paper · CIFAR-100' }));
    expect(values()).toEqual([0.1, 0.1, 0.15, 0.15, 0.15]);
    expect(screen.getByText(/^The paper's published λ, \[0.1, 0.1, 0.1, 0.15, 0.15, 0.15, 0.15\]/)).toBeTruthy();
  });

  it('edits a bar from the keyboard and never goes below zero', async () => {
    render(LambdaEditor, { props: { lambda: [0.005, 0.2], preset: 'custom', warmupEpochs: 0, epochs: 10 } });
    const first = screen.getByRole('slider', { name: 'λ of exit 1' });
    await fireEvent.keyDown(first, { key: 'ArrowDown' });
    expect(values()).toEqual([0, 0.2]);
    await fireEvent.keyDown(screen.getByRole('slider', { name: 'λ of exit 2' }), { key: 'ArrowUp' });
    expect(values()).toEqual([0, 0.21]);
  });

  it('previews the warm-up and shows the errors it is given', () => {
    render(LambdaEditor, {
      props: { lambda: [0.1, 0.15], preset: 'paper-cifar10', warmupEpochs: 2, epochs: 10, warmupError: 'λ warm-up (12 epochs) is longer than training (10)' },
    });
    expect(screen.getByText(/over 2 epochs/)).toBeTruthy();
    expect(screen.getByText(/longer than training/)).toBeTruthy();
  });
});
