import { describe, expect, it } from 'vitest';
import { amountInFrenchWords, integerInFrenchWords } from '../../src/domain/french-amount';

const euros = (n: number) => amountInFrenchWords(n * 100);

describe('integerInFrenchWords (traditional spelling)', () => {
  it.each([
    [0, 'zéro'], [1, 'un'], [10, 'dix'], [11, 'onze'], [16, 'seize'], [17, 'dix-sept'], [19, 'dix-neuf'],
    [20, 'vingt'], [21, 'vingt et un'], [22, 'vingt-deux'], [30, 'trente'], [31, 'trente et un'], [39, 'trente-neuf'],
    [41, 'quarante et un'], [51, 'cinquante et un'], [60, 'soixante'], [61, 'soixante et un'], [69, 'soixante-neuf'],
    [70, 'soixante-dix'], [71, 'soixante et onze'], [72, 'soixante-douze'], [76, 'soixante-seize'], [77, 'soixante-dix-sept'],
    [79, 'soixante-dix-neuf'], [80, 'quatre-vingts'], [81, 'quatre-vingt-un'], [82, 'quatre-vingt-deux'],
    [90, 'quatre-vingt-dix'], [91, 'quatre-vingt-onze'], [97, 'quatre-vingt-dix-sept'], [99, 'quatre-vingt-dix-neuf'],
  ])('%i → %s', (n, words) => expect(integerInFrenchWords(n)).toBe(words));

  it.each([
    [100, 'cent'], [101, 'cent un'], [121, 'cent vingt et un'], [180, 'cent quatre-vingts'], [181, 'cent quatre-vingt-un'],
    [200, 'deux cents'], [201, 'deux cent un'], [280, 'deux cent quatre-vingts'], [300, 'trois cents'], [371, 'trois cent soixante et onze'],
    [999, 'neuf cent quatre-vingt-dix-neuf'],
  ])('hundreds: %i → %s', (n, words) => expect(integerInFrenchWords(n)).toBe(words));

  it.each([
    [1000, 'mille'], [1001, 'mille un'], [1100, 'mille cent'], [1234, 'mille deux cent trente-quatre'], [2000, 'deux mille'],
    [21_000, 'vingt et un mille'], [71_000, 'soixante et onze mille'], [80_000, 'quatre-vingt mille'], [81_000, 'quatre-vingt-un mille'],
    [80_080, 'quatre-vingt mille quatre-vingts'], [100_000, 'cent mille'], [200_000, 'deux cent mille'], [200_200, 'deux cent mille deux cents'],
    [180_000, 'cent quatre-vingt mille'], [999_999, 'neuf cent quatre-vingt-dix-neuf mille neuf cent quatre-vingt-dix-neuf'],
  ])('thousands (mille invariable, no "s" on vingt/cent before it): %i → %s', (n, words) => expect(integerInFrenchWords(n)).toBe(words));

  it.each([
    [1_000_000, 'un million'], [2_000_000, 'deux millions'], [1_200_000, 'un million deux cent mille'],
    [80_000_000, 'quatre-vingts millions'], [200_000_000, 'deux cents millions'], [201_000_000, 'deux cent un millions'],
    [1_000_000_000, 'un milliard'], [3_000_000_001, 'trois milliards un'], [1_000_000_000_000, 'mille milliards'],
    [80_000_000_000, 'quatre-vingts milliards'],
  ])('millions and milliards are nouns: %i → %s', (n, words) => expect(integerInFrenchWords(n)).toBe(words));

  it('refuses what is not a non-negative safe integer', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) expect(() => integerInFrenchWords(bad)).toThrow(RangeError);
  });
});

describe('amountInFrenchWords', () => {
  it('writes euros and centimes, as on a receipt', () => {
    expect(amountInFrenchWords(123_456)).toBe('mille deux cent trente-quatre euros et cinquante-six centimes');
    expect(euros(80)).toBe('quatre-vingts euros');
    expect(euros(81)).toBe('quatre-vingt-un euros');
    expect(euros(200)).toBe('deux cents euros');
    expect(euros(201)).toBe('deux cent un euros');
    expect(euros(2500)).toBe('deux mille cinq cents euros');
    expect(euros(15_000)).toBe('quinze mille euros');
    expect(euros(71)).toBe('soixante et onze euros');
    expect(euros(21)).toBe('vingt et un euros');
  });

  it('singular euro and centime, zero', () => {
    expect(euros(1)).toBe('un euro');
    expect(amountInFrenchWords(101)).toBe('un euro et un centime');
    expect(amountInFrenchWords(180)).toBe('un euro et quatre-vingts centimes');
    expect(amountInFrenchWords(5)).toBe('cinq centimes');
    expect(amountInFrenchWords(1)).toBe('un centime');
    expect(amountInFrenchWords(0)).toBe('zéro euro');
  });

  it("takes d'euros after a round million or milliard only", () => {
    expect(euros(1_000_000)).toBe("un million d'euros");
    expect(euros(3_000_000)).toBe("trois millions d'euros");
    expect(euros(1_000_000_000)).toBe("un milliard d'euros");
    expect(amountInFrenchWords(100_000_005)).toBe("un million d'euros et cinq centimes");
    expect(euros(1_200_000)).toBe('un million deux cent mille euros');
    expect(euros(2_000_001)).toBe('deux millions un euros');
  });

  it('never writes the 1990 hyphenation', () => {
    for (const n of [21, 71, 1234, 200_000, 1_200_000, 81]) expect(euros(n)).not.toMatch(/-et-|cent-|-cent|mille-|-mille/);
  });

  it('refuses negative or fractional cents', () => {
    expect(() => amountInFrenchWords(-100)).toThrow(RangeError);
    expect(() => amountInFrenchWords(10.5)).toThrow(RangeError);
  });
});
