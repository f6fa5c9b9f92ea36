import type { Command } from 'commander';
import type { CliContext } from '../context';

/** `mecene digest …` commands. */
export function registerDigestCommands(program: Command, ctx: CliContext): void {
  void program;
  void ctx;
}
