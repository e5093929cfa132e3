"""Corpora for the corpus-derived off-topic score, written for these tests (no real export text).

COOKING_MONEY: a creator who talks about home cooking and personal money, 24 segments in
the four styles; PSYCHOLOGY: 22 segments about inner life and relationships; PLANTED: two
segments from elsewhere (a car repair, sports results) to hide among the psychology ones.
"""
from __future__ import annotations

from typing import Any

STYLES = ["therapeutic", "educational", "empathetic", "practical"]

COOKING_MONEY = [
    "If you burn the rice every time, lower the heat the moment it boils, put the lid on and leave "
    "it alone for twelve minutes. Lifting the lid lets the steam out and the bottom scorches while "
    "the top stays hard. Rest it five minutes off the heat before you fluff it with a fork.",
    "Searing does not seal in juices, that is a myth. What it does is brown the surface, and that "
    "browning is the Maillard reaction, sugars and proteins turning into hundreds of new flavour "
    "compounds. That is why a grey steak tastes flat and a well seared one tastes deep and nutty.",
    "I know the kitchen can feel like a place where you keep failing, especially if someone always "
    "told you that you could not cook. Every cook you admire has ruined a sauce, split a mayonnaise "
    "and dropped a cake. Your burnt onions are not a verdict on you, they are just Tuesday.",
    "Here is the weekly plan I use. On Sunday roast a tray of vegetables, cook a pot of lentils and "
    "a batch of grains. Monday is a grain bowl, Tuesday lentil soup, Wednesday the vegetables go "
    "into a frittata. Write the plan on the fridge and shop only for that list.",
    "Bread dough that will not rise is usually cold, not dead. Yeast slows right down below about "
    "twenty degrees, so put the bowl in the oven with just the light on, or next to a warm radiator, "
    "and give it another hour before you decide the yeast was bad and throw it away.",
    "An emulsion is two liquids that normally refuse to mix, held together by an emulsifier. In "
    "mayonnaise the lecithin in the egg yolk coats tiny droplets of oil so they stay suspended in "
    "the lemon juice. Add the oil too fast and the droplets merge, and the sauce splits.",
    "Cooking for one after years of cooking for a family can feel lonely and a bit pointless. Lots "
    "of people stop bothering and live on toast. It makes sense that you feel that way. You still "
    "deserve a proper hot plate of food, even if nobody else is at the table.",
    "To sharpen a knife on a whetstone, soak the stone, hold the blade at about fifteen degrees and "
    "push it across the stone edge first, ten strokes a side. Then do five light strokes a side, "
    "and finish on the fine grit. Test it on a tomato: it should bite the skin at once.",
    "Salt your pasta water properly, it should taste like a mild sea. The pasta absorbs the water "
    "as it cooks, so that is the only chance to season it from the inside. Keep a mug of the starchy "
    "water back to loosen the sauce and make it cling to the noodles.",
    "Why does a recipe say room temperature butter for cakes? Cold butter cannot trap air when you "
    "cream it with sugar, and those air pockets are what makes the crumb light. Butter that is too "
    "soft or melted cannot hold the air either, so the cake comes out dense and greasy.",
    "Sourdough starters die of neglect less often than people think. If yours smells of nail polish "
    "it is hungry, not ruined. Pour most of it away, feed it equal weights of flour and water twice "
    "a day for three days, and it will double again and smell sweet and tangy.",
    "A simple tomato sauce: warm olive oil with two sliced cloves of garlic until they just colour, "
    "add a tin of whole tomatoes, crush them with a spoon, salt it, and simmer for twenty minutes "
    "until it thickens. Finish with torn basil and a knob of butter off the heat.",
    "If money stress keeps you awake, you are in good company. Almost everyone I talk to feels some "
    "shame about their bank balance, as if a number says who they are. It does not. Opening your "
    "banking app and looking at it honestly is already a brave thing to do.",
    "Compound interest means you earn interest on your interest. Put one thousand in an account at "
    "five percent and after a year you have one thousand and fifty, and the next year the five "
    "percent is paid on the whole amount. Over thirty years the growth curve bends sharply upward.",
    "Here is how to build an emergency fund. Open a separate savings account at a different bank so "
    "it is not one tap away. Set up an automatic transfer for the day after payday, even if it is "
    "only twenty pounds. Aim first for one month of rent, then for three months of expenses.",
    "Paying off a credit card with the avalanche method means you pay the minimum on every card and "
    "throw every spare pound at the card with the highest interest rate. The snowball method targets "
    "the smallest balance first instead, which costs a little more but feels faster.",
    "A budget is not a punishment, it is a plan for your money. List your income, then your fixed "
    "bills like rent, energy and phone, then what you spend on food and transport. Whatever is left "
    "is yours to split between savings and the things that make your month nicer.",
    "An index fund buys every share in a market index, so you own a tiny slice of hundreds of "
    "companies at once. Fees are low because nobody is paid to pick shares, and over long periods "
    "most actively managed funds fail to beat the index after their fees are taken out.",
    "It is so hard to talk about money with a partner, especially when you grew up with very "
    "different rules about spending and saving. Neither of you is wrong for feeling defensive. "
    "Those habits kept each of you safe once, and you can choose new ones together.",
    "Before you sign a mortgage, compare the annual percentage rate, not just the monthly payment, "
    "and read the early repayment charges. Ask how long the fixed rate lasts and what the variable "
    "rate will be after it ends, and run the numbers at two percent higher to be safe.",
    "Inflation means the same money buys less each year. If prices rise four percent and your "
    "savings account pays one percent, your savings lose about three percent of their buying power "
    "every year, which is why cash is for emergencies and investments are for the long run.",
    "Try a no-spend weekend this month. Plan it on Thursday: a walk, a film you already own, a meal "
    "from what is in the cupboard, a visit to the library. Write down every urge to buy something "
    "and what you felt just before it. By Monday you will know your spending triggers.",
    "Many people who grew up with very little money either hoard every penny or spend the moment "
    "they are paid. Both make sense as responses to scarcity. Noticing which one you do, without "
    "judging it, is the first step towards a calmer relationship with your pay day.",
    "Your pension is deferred pay. When your employer matches what you put in, not taking the full "
    "match is leaving part of your salary on the table. Check your payslip, find the contribution "
    "rate, and raise it by one percent each time you get a pay rise.",
]

PSYCHOLOGY = [
    "Shame tells you that you are the problem, while guilt tells you that you did something wrong. "
    "Guilt can lead to repair, but shame makes you hide. Many people learned shame in homes where "
    "love felt conditional, so staying small and invisible felt like the safest choice.",
    "When your heart races before a meeting, your nervous system is preparing you for danger that "
    "is not there. Slow breathing with a longer out breath tells the body it is safe. Try four "
    "counts in and six counts out, five times, before you walk into the room.",
    "A boundary is a decision about what you will do, not a rule for someone else. You can say: if "
    "you shout at me, I will leave the room and we can talk later. Then you leave, calmly, every "
    "time. The guilt you feel afterwards is not proof that you did anything wrong.",
    "Grieving a parent who is still alive is real grief. You may be mourning the mother you needed "
    "and never had. Nobody sends cards for that kind of loss, which is why it can feel so lonely "
    "and so hard to explain to friends who had warm and safe families.",
    "People pleasing often starts as a survival strategy. A child who reads every mood in the room "
    "and keeps everyone calm is protecting themselves. As an adult the same habit means you lose "
    "track of what you want, and resentment builds quietly underneath the smile.",
    "If you feel lonely even in a relationship, that loneliness is telling you something important. "
    "It is not that you are too needy. It may be that you have never felt truly seen, and your "
    "longing for connection deserves to be taken seriously, gently and without shame.",
    "Perfectionism is not about high standards. It is about safety. If being flawless once kept "
    "criticism away, then resting or making a mistake can feel dangerous. Healing starts when you "
    "notice the fear underneath the drive and meet it with some compassion.",
    "Anger is not the enemy. In recovery, anger is often the part of you that finally knows you "
    "deserved better. It carries information about where your limits were crossed, and you can "
    "listen to that information without acting on it or turning it against yourself.",
    "Attachment styles describe how we learned to seek closeness and comfort. Someone with an "
    "anxious style reaches for reassurance when a partner goes quiet, while someone with an avoidant "
    "style pulls away when things get close. Both are strategies learned in childhood.",
    "Here is an exercise for self-criticism. When the inner critic speaks, write down the sentence "
    "word for word. Then ask whose voice it sounds like. Then write what you would say to a friend "
    "who told you the same thing about themselves, and read it out loud once.",
    "You are allowed to feel exhausted. Burnout is not a personal failure or a lack of willpower. It "
    "is what happens when you carry too much for too long without rest or support, and your body is "
    "finally asking you to stop and take care of yourself.",
    "Rejection sensitivity can make a late text feel like proof that you are unwanted. Your nervous "
    "system is scanning for a loss it learned to expect long ago. Naming the old fear out loud helps "
    "you respond to the person in front of you rather than to your past.",
    "Jealousy often points at a longing you have not let yourself admit. Instead of scolding "
    "yourself for it, get curious. Ask what it is trying to show you about your needs, your values "
    "and the life you want, and what small step would move you toward it.",
    "When you are flooded in an argument, your thinking brain goes offline. Agree on a pause word "
    "with your partner. When one of you says it, you both take twenty minutes apart, do something "
    "calming, and come back to the conversation when your heart rate has settled.",
    "Children of emotionally immature parents often become the adult in the family far too early. "
    "They learn to manage their parents' feelings and hide their own. Later they may find it hard "
    "to ask for help, because needing someone once felt dangerous and unwelcome.",
    "Self-worth is not something you earn by being useful. If you grew up being praised only for "
    "achievements, you may feel worthless on a day when you get nothing done. Your worth was never "
    "the problem, the conditions put on love were the problem.",
    "It makes complete sense that you feel numb after everything you have been through. Numbness is "
    "the mind protecting you from more pain than it can hold at once. You are not broken, and the "
    "feelings can come back slowly when you feel safe enough to let them.",
    "Dissociation is the mind stepping back from an experience that feels too much. You might feel "
    "foggy, far away or like you are watching yourself. A grounding exercise helps: name five things "
    "you can see, four you can touch, three you can hear, and breathe slowly.",
    "Try a repair conversation after a fight. Start with your part: I raised my voice and I am sorry "
    "for that. Then say what you felt underneath, such as scared or hurt, not what they did wrong. "
    "Ask them what it was like for them and listen without defending yourself.",
    "Trauma bonding happens when moments of warmth are mixed with harm, so the relief after a bad "
    "day feels like love. The bond is strong because the brain learns to wait for the good moments. "
    "Understanding this can ease the shame of finding it so hard to leave.",
    "If you are grieving, there is no timeline you are failing to meet. Some days the loss feels "
    "lighter and some days it hits you again in the supermarket. Both are normal. Let the people who "
    "love you sit with you, even when you have nothing to say.",
    "Try a small self-compassion break when things go wrong. Put a hand on your chest, say this is a "
    "hard moment, remind yourself that everyone struggles sometimes, and ask what you need right "
    "now. It feels awkward at first, and it gets easier with practice every day.",
]

PLANTED = [
    "To change the brake pads, loosen the wheel nuts, jack the car up on the sill and take the wheel "
    "off. Undo the two caliper bolts, swing the caliper up and slide the old pads out. Push the "
    "piston back with a clamp, fit the new pads, refit the bolts to the torque in the manual.",
    "Results from the weekend: United won three one away from home with two goals in the second "
    "half, City drew nil nil, and Rovers lost two one after a late penalty. In the rugby the home "
    "side won by twelve points, and the cricket was rained off after forty overs.",
]


def records(texts: list[str], prefix: str, **extra: Any) -> list[dict[str, Any]]:
    """One export row per text, the four styles in turn, one video each."""
    return [{"id": f"{prefix}-{i}", "text": text, "style": STYLES[i % 4], "confidence": 0.9,
             "video_id": f"{prefix}-v{i}", **extra} for i, text in enumerate(texts)]
