import type { Command } from 'commander';
import type { CliContext } from '../context';

/** `mecene pipeline …` commands. */
export function registerPipelineCommands(program: Command, ctx: CliContext): void {
  void program;
  void ctx;
}
